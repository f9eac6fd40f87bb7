"""Email HTML made safe to show an agent, and the plain text read out of it.

nh3 (ammonia) keeps an allow-list of tags and attributes fit for mail: formatting, tables,
lists, links and images. `style` attributes and `<style>` blocks are dropped because nh3 can't
sanitize CSS values (`url(...)` loads remote content, `position: fixed` overlays the page).
Remote images are kept: the display frame blocks them with a CSP until the agent clicks, and
`email_html_has_remote_images` tells the UI whether to offer that click.
"""

from __future__ import annotations

import itertools
import re
from html import unescape as html_unescape
from html.entities import html5 as html5_entities
from urllib.parse import urlsplit

import nh3

# Bigger HTML is cut before sanitizing, so a 20 MB message can't hold a worker for long.
HTML_SIZE_LIMIT = 2_000_000

_TAGS = {
    "a", "abbr", "acronym", "address", "article", "b", "bdi", "bdo", "big", "blockquote", "br",
    "caption", "center", "cite", "code", "col", "colgroup", "dd", "del", "dfn", "div", "dl",
    "dt", "em", "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp",
    "section", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var", "wbr",
}  # fmt: skip

# Removed together with everything inside them: their content is code, a nested document or a
# form control, never text the sender meant the reader to see.
_DROPPED_WITH_CONTENT = {
    "applet", "audio", "button", "canvas", "embed", "frame", "frameset", "head", "iframe",
    "math", "noembed", "noframes", "noscript", "object", "option", "script", "select", "style",
    "svg", "template", "textarea", "title", "video", "xml",
}  # fmt: skip

_LAYOUT = {"align", "valign", "dir", "lang", "title"}
_BOX = {"width", "height", "bgcolor"}
_ATTRIBUTES: dict[str, set[str]] = {
    "*": _LAYOUT,
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "border", "hspace", "vspace"},
    "table": _BOX | {"border", "cellpadding", "cellspacing", "summary"},
    "td": _BOX | {"colspan", "rowspan", "nowrap", "scope"},
    "th": _BOX | {"colspan", "rowspan", "nowrap", "scope"},
    "tr": {"height", "bgcolor"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value", "type"},
    "hr": {"width", "size", "noshade"},
    "div": {"width"},
    "p": {"width"},
}
# The markers mail clients put on quoted history, so the display can fold it; nothing else
# may carry a class or id (they could pick up the app's own CSS or clobber its DOM names).
_QUOTE_CLASSES = {
    "div": {"gmail_quote", "gmail_attr", "gmail_signature", "moz-cite-prefix", "moz-signature"},
    "blockquote": {"gmail_quote"},
}
_QUOTE_MARKERS = {
    "blockquote": {"type": {"cite"}},
    "div": {"id": {"divRplyFwdMsg", "appendonsend"}},
}
_LINK_SCHEMES = {"http", "https", "mailto"}
_IMAGE_SCHEMES = {"http", "https", "cid"}


def _url_allowed(tag: str, attribute: str, value: str) -> str | None:
    if attribute not in {"href", "src"}:
        return value
    scheme = urlsplit(value.strip()).scheme.lower()
    allowed = _IMAGE_SCHEMES if (tag, attribute) == ("img", "src") else _LINK_SCHEMES
    return value if scheme in allowed else None


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_DROPPED_WITH_CONTENT,
    attributes=_ATTRIBUTES,
    attribute_filter=_url_allowed,
    strip_comments=True,
    link_rel="noopener noreferrer nofollow",
    tag_attribute_values=_QUOTE_MARKERS,
    set_tag_attribute_values={"a": {"target": "_blank"}},
    url_schemes=_LINK_SCHEMES | _IMAGE_SCHEMES,
    allowed_classes=_QUOTE_CLASSES,
    # A relative URL would resolve against our own origin once the mail's <base> is gone.
    url_relative="deny",
)


# html5ever (under nh3) is quadratic in the length of a text node or attribute made of many
# character references or raw "&", "<" and no-break spaces: 2 MB of "&&&..." takes minutes.
# So references are decoded here, and the characters that must stay escaped travel through the
# sanitizer as private-use placeholders that are turned back into entities afterwards.
_PLACEHOLDER = {"&": "\ue000", "<": "\ue001", ">": "\ue002", '"': "\ue003", "'": "\ue004",
                "\u00a0": "\ue005"}  # fmt: skip
_RESTORE = (("\ue000", "&amp;"), ("\ue001", "&lt;"), ("\ue002", "&gt;"), ("\ue003", "&quot;"),
            ("\ue004", "&#39;"), ("\ue005", "&nbsp;"))  # fmt: skip
_OWN_PLACEHOLDERS = re.compile("[\ue000-\ue005]")
_REFERENCE = re.compile(r"&(#[0-9]{1,10};?|#[xX][0-9a-fA-F]{1,8};?|[A-Za-z][A-Za-z0-9]{0,31};?)")
_LITERAL_LT = re.compile(r"<(?![A-Za-z/!?])")
_ESCAPE_DECODED = str.maketrans(_PLACEHOLDER)


def _reference_decoded(match: re.Match[str]) -> str:
    body = match.group(1)
    next_char = match.string[match.end() : match.end() + 1]
    if body.startswith("#"):
        decoded = html_unescape("&" + body)
    elif body.endswith(";") and body in html5_entities:
        decoded = html5_entities[body]
    elif (
        not body.endswith(";")
        and body in html5_entities
        and not (next_char.isalnum() or next_char == "=")
    ):
        # A legacy reference without ";" ("&nbsp"); inside a URL ("?a=1&copy=2") it isn't one.
        decoded = html5_entities[body]
    else:
        return _PLACEHOLDER["&"] + body
    return decoded.translate(_ESCAPE_DECODED)


def _parser_friendly(html: str) -> str:
    html = _OWN_PLACEHOLDERS.sub("\ufffd", html.replace("\x00", ""))
    # Every "&" still left after decoding stands for itself.
    html = _REFERENCE.sub(_reference_decoded, html).replace("&", _PLACEHOLDER["&"])
    html = _LITERAL_LT.sub(_PLACEHOLDER["<"], html)
    return html.replace("\u00a0", _PLACEHOLDER["\u00a0"])


# Deeper nesting makes html5ever's scope checks quadratic; real mail stays far below it.
NESTING_LIMIT = 256
_NEVER_NESTED = {
    # void elements
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input",
    "keygen", "link", "meta", "param", "source", "track", "wbr",
    # closed implicitly by their next sibling, so they can't pile up on the parser's stack
    "body", "caption", "colgroup", "dd", "dt", "head", "html", "li", "optgroup", "option", "p",
    "rb", "rp", "rt", "rtc", "tbody", "td", "tfoot", "th", "thead", "tr",
}  # fmt: skip
_TAG_START = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]{0,40})")


def email_html_bounded(html: str) -> tuple[str, str | None]:
    """`html` cut to what the sanitizer handles in bounded time, and why it was cut (or None).

    Counts open elements the way the parser's stack grows (an end tag only closes an element of
    its name that is open) and cuts before the element that would pass NESTING_LIMIT.
    """
    note = None
    if len(html) > HTML_SIZE_LIMIT:
        html = html[:HTML_SIZE_LIMIT]
        note = f"HTML longer than {HTML_SIZE_LIMIT:,} characters; the rest was dropped"
    if html.count("<") <= NESTING_LIMIT:
        return html, note
    open_by_name: dict[str, int] = {}
    depth = 0
    for index, (slash, tag) in enumerate(_TAG_START.findall(html)):
        name = tag.lower()
        if name in _NEVER_NESTED:
            continue
        if slash:
            if open_by_name.get(name):
                open_by_name[name] -= 1
                depth -= 1
            continue
        open_by_name[name] = open_by_name.get(name, 0) + 1
        depth += 1
        if depth > NESTING_LIMIT:
            cut = next(itertools.islice(_TAG_START.finditer(html), index, None)).start()
            return html[:cut], (
                f"HTML nested more than {NESTING_LIMIT} elements deep; the rest was dropped"
            )
    return html, note


def email_html_sanitize_noted(html: str) -> tuple[str, str | None]:
    """`email_html_sanitize`, plus why the HTML had to be cut first (None when it wasn't)."""
    html, note = email_html_bounded(html)
    clean = _CLEANER.clean(_parser_friendly(html))
    for placeholder, entity in _RESTORE:
        clean = clean.replace(placeholder, entity)
    # What's left of a class attribute whose classes were all filtered out.
    return clean.replace(' class=""', ""), note


def email_html_sanitize(html: str) -> str:
    """The mail's HTML with only inert markup left (cut first if too big or too deep)."""
    return email_html_sanitize_noted(html)[0]


# Sanitized HTML is serialized by html5ever: lower-case names, every attribute value in double
# quotes with no raw quote inside, no comments. That makes a tokenizing regex exact (and much
# faster than HTMLParser on a couple of megabytes).
_IMG_TAG = re.compile(r'<img\b(?:[^>"]|"[^"]*")*>')
_REMOTE_SRC = re.compile(r'\ssrc="\s*(?:https?:|//)', re.IGNORECASE)
_TOKEN = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:[^>"]|"[^"]*")*>|[^<]+|<')


def email_html_has_remote_images(html: str) -> bool:
    """Whether showing `html` (as returned by email_html_sanitize) loads anything remote."""
    return any(_REMOTE_SRC.search(tag.group(0)) for tag in _IMG_TAG.finditer(html))


_BLOCKS = {
    "address", "article", "aside", "caption", "center", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "header", "li", "main", "nav", "section", "tr",
}  # fmt: skip
_PARAGRAPHS = {"blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "ol", "p", "pre", "table",
               "ul"}  # fmt: skip
_SPACES = re.compile(r"[ \t\n\r\f\v\u00a0]+")


class _TextWriter:
    """Lines of text; block elements end a line, paragraphs leave a blank one, and lines inside
    a blockquote get "> " like a plain-text reply, so quoted history is found the same way."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._line: list[str] = []
        self._line_depth = 0
        self._quote_depth = 0
        self._pre = 0
        self._hidden = 0
        self.length = 0

    def _end_line(self, *, force: bool = False) -> None:
        text = "".join(self._line)
        if not self._pre:
            text = _SPACES.sub(" ", text).strip()
        if text:
            self.lines.append("> " * self._line_depth + text)
        elif force:
            self.lines.append(">" * self._quote_depth)
        self._line = []
        self._line_depth = self._quote_depth

    def _paragraph(self) -> None:
        self._end_line()
        if self.lines and self.lines[-1].strip("> "):
            self.lines.append(">" * self._quote_depth)

    def start(self, tag: str) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self._hidden += 1
        elif tag == "br":
            self._end_line(force=True)
        elif tag == "hr":
            self._paragraph()
        elif tag in _PARAGRAPHS:
            self._paragraph()
            if tag == "blockquote":
                self._quote_depth += 1
                self._line_depth = self._quote_depth
            elif tag == "pre":
                self._pre += 1
        elif tag in _BLOCKS:
            self._end_line()
            if tag == "li":
                self._line.append("- ")
        elif tag in {"td", "th"}:
            self._line.append(" ")

    def end(self, tag: str) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _PARAGRAPHS:
            self._end_line()
            if tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth - 1)
            elif tag == "pre":
                self._pre = max(0, self._pre - 1)
            self._paragraph()
        elif tag in _BLOCKS:
            self._end_line()

    def data(self, text: str) -> None:
        if self._hidden:
            return
        self.length += len(text)
        if "&" in text:
            text = html_unescape(text)
        if not self._line:
            self._line_depth = self._quote_depth
        if self._pre and "\n" in text:
            first, *rest = text.split("\n")
            self._line.append(first)
            for piece in rest:
                self._end_line(force=True)
                self._line.append(piece)
        else:
            self._line.append(text)

    def text(self) -> str:
        self._end_line()
        out: list[str] = []
        for line in self.lines:
            if not line.strip("> ") and (not out or not out[-1].strip("> ")):
                continue
            out.append(line.rstrip())
        return "\n".join(out).strip("\n")


def email_html_to_text(html: str, *, limit: int | None = None) -> str:
    """Readable plain text of sanitized mail HTML: tags dropped, entities decoded, blocks on
    their own lines, blockquotes marked with "> " the way plain-text replies quote.

    With `limit`, stops soon after that many characters of text (the caller truncates).
    """
    writer = _TextWriter()
    for token in _TOKEN.finditer(html):
        if limit is not None and writer.length > limit:
            break
        tag = token.group(2)
        if tag is None:
            writer.data(token.group(0))
        elif token.group(1):
            writer.end(tag.lower())
        else:
            writer.start(tag.lower())
    return writer.text()
