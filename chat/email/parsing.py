"""A received mail's raw bytes turned into the plain values ingestion stores; never raises.

Everything that comes from the mail is treated as hostile. The stdlib splits the MIME tree;
headers are decoded here (its structured header parser raises on CR/LF in names and takes
minutes on some crafted 60 KB headers), every header-derived string is one line without control
characters, text is decoded with the declared charset and guessed only when that fails, HTML is
sanitized, and sizes are bounded so work grows linearly with the message. Anything that went
wrong is described in `parse_error`; the caller keeps the raw bytes, so nothing is lost.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.policy
import email.utils
import mimetypes
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message

from chat.email.html_sanitize import (
    HTML_SIZE_LIMIT,
    email_html_sanitize_noted,
    email_html_to_text,
)
from chat.email.reply_text import reply_text_split
from chat.email.tnef import TnefError, tnef_extract

TEXT_LIMIT = 1_000_000
TRUNCATION_MARKER = "\n\n[… message truncated]"
# A character takes at most 4 bytes in UTF-8, so this many bytes always hold the limit's worth.
_TEXT_BYTES_LIMIT = 4 * TEXT_LIMIT
_HTML_BYTES_LIMIT = 4 * HTML_SIZE_LIMIT
_MAX_PARTS = 500
_MAX_DEPTH = 30
_HEADER_CHARS = 64_000
_MAX_REFERENCES = 100
_ID_CHARS = 998
_SUBJECT_CHARS = 998
_NAME_CHARS = 200
_FILENAME_CHARS = 200
_ADDRESS_CHARS = 320
_REASON_CHARS = 500
_NOTES_CHARS = 2_000

# The MIME tree is read with compat32: header values stay the raw strings they arrived as, and
# reading Content-Type a dozen times doesn't re-run the structured header parser each time
# (that alone made parsing several times slower). Headers are decoded here.
_PARSE_POLICY = email.policy.compat32


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str  # cleaned, never empty
    content_type: str  # lower-case; the declared type unless the bytes say otherwise
    content: bytes
    content_id: str | None  # without <>, for cid: references in the HTML
    is_inline: bool


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]  # oldest first
    from_name: str
    from_address: str
    reply_to: str
    to: list[str]
    cc: list[str]
    delivered_to: list[str]
    subject: str
    date: datetime | None
    text: str
    html: str
    visible_text: str
    quoted_text: str
    attachments: list[ParsedAttachment]
    auto_submitted: bool
    is_bounce: bool
    bounced_recipients: list[str]
    bounce_reason: str
    language_hint: str
    parse_error: str | None


# Guessing a charset costs a millisecond or more; a crafted mail can ask for it per header or
# per encoded word, so each message gets a few guesses and then falls back to UTF-8.
_GUESSES_PER_MESSAGE = 20


class _Report:
    """What went wrong while reading one message (once each, in the order found), and how many
    charset guesses that message may still use."""

    def __init__(self) -> None:
        self._items: dict[str, None] = {}
        self.guesses_left = _GUESSES_PER_MESSAGE
        # The charset the first text part declares: raw 8-bit headers are usually in it.
        self.body_codecs: tuple[str, ...] = ()

    def add(self, note: str) -> None:
        if len(self._items) < 20:
            self._items.setdefault(note)

    def summary(self) -> str | None:
        if not self._items:
            return None
        return _one_line("; ".join(self._items))[:_NOTES_CHARS]


# --- strings --------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Bidi overrides and the BOM make a name display differently from what it is
# ("invoice\u202efdp.exe" shows as "invoiceexe.pdf").
_INVISIBLE_IN_NAMES = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _one_line(value: str) -> str:
    """Whitespace runs (CR and LF included) as single spaces, other control characters gone."""
    return _CONTROL.sub("", _WHITESPACE.sub(" ", value)).strip()


_SURROGATES = re.compile("[\ud800-\udfff]")


def _plain_text(value: str) -> str:
    """Newlines as LF; no NUL or lone surrogates, which PostgreSQL text can't store."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return _SURROGATES.sub("\ufffd", value)


# --- charsets -------------------------------------------------------------------------------

# What senders write → what they mean. Mail labelled with a legacy charset is usually written in
# its Windows superset (GB2312 → GB18030, Shift_JIS → cp932, EUC-KR → cp949, Latin-1 → cp1252).
_CHARSET_CODECS: dict[str, tuple[str, ...]] = {
    "us-ascii": ("ascii", "cp1252"),
    "ascii": ("ascii", "cp1252"),
    "ansi_x3.4-1968": ("ascii", "cp1252"),
    "iso-8859-1": ("cp1252", "latin-1"),
    "iso8859-1": ("cp1252", "latin-1"),
    "iso_8859-1": ("cp1252", "latin-1"),
    "latin1": ("cp1252", "latin-1"),
    "latin-1": ("cp1252", "latin-1"),
    "windows-1252": ("cp1252", "latin-1"),
    "cp1252": ("cp1252", "latin-1"),
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "cp936": ("gb18030",),
    "euc-cn": ("gb18030",),
    "csgb2312": ("gb18030",),
    "gb18030": ("gb18030",),
    "big5": ("big5hkscs", "cp950"),
    "big5-hkscs": ("big5hkscs",),
    "shift_jis": ("cp932", "shift_jis_2004"),
    "shift-jis": ("cp932", "shift_jis_2004"),
    "sjis": ("cp932",),
    "x-sjis": ("cp932",),
    "windows-31j": ("cp932",),
    "cp932": ("cp932",),
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_2004"),
    "euc-jp": ("euc_jp", "euc_jis_2004"),
    "euc-kr": ("cp949",),
    "ks_c_5601-1987": ("cp949",),
    "ks_c_5601": ("cp949",),
    "iso-8859-8-i": ("iso8859_8",),
    "x-mac-roman": ("mac_roman",),
    "tis-620": ("cp874",),
}
_SINGLE_BYTE_WESTERN = {"ascii", "cp1252", "latin-1"}
_UNDECLARED = {"", "unknown-8bit", "x-unknown", "unknown", "default", "8bit", "binary"}
# Codecs Python knows that are not character sets a mail could use.
_NOT_CHARSETS = {
    "base64", "bz2", "hex", "quopri", "rot-13", "uu", "zlib", "undefined", "idna", "punycode",
    "unicode-escape", "raw-unicode-escape", "unicode-internal", "mbcs", "oem", "charmap",
}  # fmt: skip
_LABEL_JUNK = re.compile(r"[^a-z0-9_.:\-]")


def _codecs_for(label: str) -> tuple[str, ...]:
    if label in _CHARSET_CODECS:
        return _CHARSET_CODECS[label]
    try:
        name = codecs.lookup(label).name
    except (LookupError, TypeError, ValueError):
        return ()
    return () if name.replace("_", "-") in _NOT_CHARSETS else (name,)


def _decoded_with(data: bytes, codec: str, *, partial: bool) -> str:
    if partial:
        return codecs.getincrementaldecoder(codec)("strict").decode(data, final=False)
    return data.decode(codec)


def _guessed(data: bytes, notes: _Report) -> tuple[str, str]:
    """`data` decoded with charset-normalizer's best guess, and the guess's name."""
    fallback = data.decode("utf-8", errors="replace"), "UTF-8 with replacements"
    if notes.guesses_left <= 0:
        return fallback
    notes.guesses_left -= 1
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:65_536]).best()
        if best is None:
            return fallback
        return data.decode(best.encoding, errors="replace"), best.encoding
    except Exception:  # a detector failure only means falling back to UTF-8
        return fallback


def _decoded(
    data: bytes, label: str | None, notes: _Report, where: str, *, partial: bool = False
) -> str:
    """Text of `data` in its declared charset; a guess (noted) when the label is unusable."""
    if not data:
        return ""
    label = _LABEL_JUNK.sub("", (label or "").lower())[:40]
    if label in _UNDECLARED:
        if data.isascii():
            return data.decode("ascii")
        try:
            return _decoded_with(data, "utf-8", partial=partial)
        except UnicodeDecodeError:
            return _guessed(data, notes)[0]
    candidates = _codecs_for(label)
    if not candidates:
        text, guess = _guessed(data, notes)
        notes.add(f"Undecodable charset {label} in {where}; decoded as {guess}")
        return text
    if set(candidates) <= _SINGLE_BYTE_WESTERN and not data.isascii():
        # UTF-8 labelled as Latin-1 or ASCII is common, and valid UTF-8 is never accidental.
        try:
            return _decoded_with(data, "utf-8", partial=partial)
        except UnicodeDecodeError:
            pass
    for codec in candidates:
        try:
            return _decoded_with(data, codec, partial=partial)
        except UnicodeDecodeError:
            continue
    text, guess = _guessed(data, notes)
    notes.add(f"Text in {where} was not valid {label}; decoded as {guess}")
    return text


def _unsurrogated(value: str, notes: _Report) -> str:
    """A header value read from bytes keeps non-ASCII bytes as surrogates; decode them."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogateescape")
    for codec in ("utf-8", *notes.body_codecs):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return _guessed(raw, notes)[0]


# --- headers --------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([bBqQ])\?([^?\s]*)\?=")


def _encoded_word_bytes(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        payload = payload + "=" * (-len(payload) % 4)
        try:
            return base64.b64decode(payload.encode("ascii", "ignore"))
        except (binascii.Error, ValueError):
            return b""
    return binascii.a2b_qp(payload.encode("utf-8", "replace"), header=True)


def _encoded_words_decoded(value: str, notes: _Report) -> str:
    """RFC 2047 decoding that survives unknown charsets, broken base64 and a multi-byte
    character split across two words (adjacent words in one charset are joined first)."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []

    def flush() -> None:
        for charset, data in pending:
            out.append(_decoded(data, charset.split("*")[0], notes, "a header"))
        pending.clear()

    position = 0
    for word in _ENCODED_WORD.finditer(value):
        gap = value[position : word.start()]
        if gap and not (pending and gap.isspace()):
            flush()
            out.append(gap)
        charset = word.group(1).lower()
        data = _encoded_word_bytes(word.group(2), word.group(3))
        if pending and pending[-1][0] == charset:
            pending[-1] = (charset, pending[-1][1] + data)
        else:
            pending.append((charset, data))
        position = word.end()
    flush()
    out.append(value[position:])
    return "".join(out)


class _Headers:
    """The top-level headers as received, by lower-case name; decoded when asked for, and at
    most the first 100 of one name (a crafted mail may repeat a header 100,000 times)."""

    def __init__(self, message: Message, notes: _Report) -> None:
        self._notes = notes
        self._values: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            key = str(name).strip().lower()
            self._values.setdefault(key, []).append(str(value))

    def all(self, name: str) -> list[str]:
        return [
            _unsurrogated(value[:_HEADER_CHARS], self._notes)
            for value in self._values.get(name, [])[:100]
        ]

    def first(self, name: str) -> str | None:
        values = self._values.get(name)
        return _unsurrogated(values[0][:_HEADER_CHARS], self._notes) if values else None

    def has(self, name: str) -> bool:
        return name in self._values


_ADDR_SPEC = re.compile(r"[^\s@<>()\[\],;:\"\\]+@[^\s@<>()\[\],;:\"\\]+")
_ADDR_IN_TEXT = re.compile(r"[^\s@<>()\[\],;:\"'\\]+@[^\s@<>()\[\],;:\"'\\]+")


def _address(value: str) -> str:
    value = _one_line(value).strip("<>").lower()
    if len(value) > _ADDRESS_CHARS or not _ADDR_SPEC.fullmatch(value):
        return ""
    return value


def _scan(text: str) -> Iterator[tuple[int, str, bool]]:
    """Each character of an address header, and whether it is at top level: outside quoted
    strings and (nested) comments, with backslash escapes inside them honoured (RFC 5322)."""
    quoted = escaped = False
    comment = 0
    for index, char in enumerate(text):
        top = False
        if escaped:
            escaped = False
        elif char == "\\" and (quoted or comment):
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif comment:
            comment += 1 if char == "(" else -1 if char == ")" else 0
        elif char == '"':
            quoted = True
        elif char == "(":
            comment = 1
        else:
            top = True
        yield index, char, top


def _split_address_list(value: str) -> list[str]:
    """The mailboxes of an address header, split at top-level commas. A group's name
    ("undisclosed-recipients:") is dropped and its members kept. One linear pass: the stdlib's
    parsers take minutes on some 60 KB headers (runs of quotes or commas)."""
    items: list[str] = []
    current: list[str] = []
    angle = False
    for _, char, top in _scan(value):
        if top:
            if angle:
                angle = char != ">"
            elif char == "<":
                angle = True
            elif char in ",;":
                items.append("".join(current))
                current = []
                continue
            elif char == ":":
                current = []
                continue
        current.append(char)
    items.append("".join(current))
    return [item for item in items if item.strip()]


_COMMENT = re.compile(r"\((?:[^()\\]|\\.)*\)")
_QUOTED_PAIR = re.compile(r"\\(.)")


def _angle_bounds(item: str) -> tuple[int, int]:
    """Where the last top-level "<...>" of a mailbox starts and ends (-1, -1 if none)."""
    start = end = -1
    for index, char, top in _scan(item):
        if not top:
            continue
        if char == "<":
            start, end = index, -1
        elif char == ">" and start >= 0 and end < 0:
            end = index
    return start, end


def _mailbox(item: str, notes: _Report) -> tuple[str, str]:
    start, end = _angle_bounds(item)
    if start >= 0:
        name, addr = item[:start], item[start + 1 : end if end > start else len(item)]
    else:
        # "user@example.com (Name)": the comment is the only name there is.
        comments = _COMMENT.findall(item)
        name, addr = (comments[0][1:-1] if comments else ""), item
    addr = _COMMENT.sub("", addr).rpartition(":")[2]  # drop comments and an old source route
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = _QUOTED_PAIR.sub(r"\1", name[1:-1])
    # Names are decoded only now, after the split: decoded text can't add a "," or "<".
    return _encoded_words_decoded(name, notes), "".join(addr.split())


def _address_list(value: str, notes: _Report) -> list[tuple[str, str]]:
    """(display name, addr-spec) pairs of an address header; invalid addr-specs become ""."""
    pairs = [_mailbox(item, notes) for item in _split_address_list(value)]
    return [(_one_line(name)[:_NAME_CHARS], _address(addr)) for name, addr in pairs]


def _addresses(values: Iterable[str], notes: _Report) -> list[str]:
    found = (addr for value in values for _, addr in _address_list(value, notes))
    return [addr for addr in dict.fromkeys(found) if addr]


def _addresses_in_text(values: Iterable[str]) -> list[str]:
    found = (_address(match) for value in values for match in _ADDR_IN_TEXT.findall(value))
    return [addr for addr in dict.fromkeys(found) if addr]


_ANGLE_ID = re.compile(r"<([^<>]{1,2000})>")
_ID_JUNK = re.compile(r"[\s\x00-\x1f\x7f]+")


def _message_ids(values: Iterable[str]) -> list[str]:
    ids: dict[str, None] = {}
    for value in values:
        found = _ANGLE_ID.findall(value)
        if not found and "<" not in value:
            found = [token for token in value.split() if "@" in token]
        for item in found:
            clean = _ID_JUNK.sub("", item)
            if clean and len(clean) <= _ID_CHARS:
                ids.setdefault(clean)
    return list(ids)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(_one_line(value)[:200])
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _header_text(value: str | None, notes: _Report) -> str:
    return _one_line(_encoded_words_decoded(value or "", notes))


# --- parts ----------------------------------------------------------------------------------

_DEFECT_NOTES = {
    "CloseBoundaryNotFoundDefect": "Malformed MIME: missing closing boundary",
    "StartBoundaryNotFoundDefect": "Malformed MIME: start boundary not found",
    "NoBoundaryInMultipartDefect": "Malformed MIME: multipart without a boundary",
    "MultipartInvariantViolationDefect": "Malformed MIME: multipart without parts",
    "InvalidMultipartContentTransferEncodingDefect": "Malformed MIME: encoded multipart",
    "FirstHeaderLineIsContinuationDefect": "Malformed headers: first line is a continuation",
    "MisplacedEnvelopeHeaderDefect": "Malformed headers: misplaced envelope line",
    "MissingHeaderBodySeparatorDefect": "Malformed headers: a line that is not a header",
    "InvalidBase64PaddingDefect": "Invalid base64: bad padding",
    "InvalidBase64CharactersDefect": "Invalid base64: characters outside the alphabet",
    "InvalidBase64LengthDefect": "Invalid base64: truncated data",
}
_TYPE = re.compile(r"[a-z0-9!#$&^_.+\-]{1,64}/[a-z0-9!#$&^_.+\-]{1,128}")
_FILENAME_PARAM = re.compile(r"""(?:file)?name\*?\s*=\s*(?:"([^"]*)"|([^;\s]+))""", re.I)
_EXTENSIONS = {
    "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
    "image/svg+xml": ".svg", "application/pdf": ".pdf", "text/html": ".html",
    "text/plain": ".txt", "text/calendar": ".ics", "message/rfc822": ".eml",
    "application/zip": ".zip", "application/ms-tnef": ".dat", "application/octet-stream": "",
}  # fmt: skip
_ZIP_CONTAINERS = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".epub": "application/epub+zip",
}
_HTML_STARTS = (
    "<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<h1", "<div", "<font",
    "<table", "<a ", "<a>", "<style", "<title", "<b>", "<br", "<p>", "<p ", "<img", "<form",
    "<object", "<embed", "<meta",
)  # fmt: skip
_MARKUP_PREAMBLE = re.compile(
    r"\s*(?:<\?xml[^>]{0,200}\?>|<!--.{0,500}?-->|<!doctype[^>]{0,300}>)", re.S
)


def _markup_kind(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("latin-1")
    text = text.lstrip("\ufeffï»¿ \t\r\n").lower()
    while True:
        preamble = _MARKUP_PREAMBLE.match(text)
        if preamble is None or preamble.end() == 0:
            break
        if preamble.group(0).lstrip().startswith("<!doctype html"):
            return "html"
        text = text[preamble.end() :]
    text = text.lstrip()
    if text.startswith("<svg"):
        return "svg"
    if text.startswith(_HTML_STARTS):
        return "html"
    return None


def _sniffed_type(content: bytes, declared: str, filename: str) -> str:
    """The declared type, unless the first bytes are a well-known format that says otherwise
    (a "photo.png" that is HTML is served and limited as HTML)."""
    head = content[:1024]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if declared.endswith("+zip") or declared in _ZIP_CONTAINERS.values():
            return declared
        extension = filename[filename.rfind(".") :].lower() if "." in filename else ""
        return _ZIP_CONTAINERS.get(extension, "application/zip")
    kind = _markup_kind(head)
    if kind == "svg":
        return "image/svg+xml"
    if kind == "html":
        return "text/html"
    return declared


def _clean_filename(name: str | None, content_type: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _INVISIBLE_IN_NAMES.sub("", _one_line(name)).strip(" .")
    if len(name) > _FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = f"{stem[: _FILENAME_CHARS - len(extension) - 1]}.{extension}"
        else:
            name = name[:_FILENAME_CHARS]
    if name:
        return name
    known = _EXTENSIONS.get(content_type)
    suffix = known if known is not None else mimetypes.guess_extension(content_type) or ""
    return ("image" if content_type.startswith("image/") else "attachment") + suffix


class _Walker:
    """Collects body text, HTML, attachments and DSN fields from a MIME tree."""

    def __init__(self, notes: _Report) -> None:
        self.notes = notes
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[ParsedAttachment] = []
        self.dsn_blocks: list[list[tuple[str, str]]] = []
        self.tnef_text: list[str] = []
        self.tnef_html: list[str] = []
        self.truncated = False
        self._parts = 0

    def walk(self, part: Message, depth: int = 0, *, resource: bool = False) -> None:
        self._parts += 1
        if self._parts > _MAX_PARTS:
            self.notes.add(f"More than {_MAX_PARTS} MIME parts; the rest were skipped")
            return
        if depth > _MAX_DEPTH:
            self.notes.add(f"MIME parts nested more than {_MAX_DEPTH} deep; skipped")
            return
        content_type = _content_type(part)
        try:
            if content_type in ("message/rfc822", "message/global"):
                self._embedded_message(part)
            elif content_type in ("message/delivery-status", "message/global-delivery-status"):
                self._delivery_status(part)
            elif part.is_multipart():
                children = [c for c in part.get_payload() if isinstance(c, Message)]
                if content_type == "multipart/alternative":
                    self._alternative(children, depth, resource=resource)
                elif content_type == "multipart/related":
                    self._related(part, children, depth)
                else:
                    for child in children:
                        self.walk(child, depth + 1, resource=resource)
            else:
                self._leaf(part, content_type, resource=resource)
        except Exception as exc:  # one unreadable part must not cost the rest of the mail
            self.notes.add(f"A {content_type} part could not be read ({type(exc).__name__})")
        for defect in getattr(part, "defects", []):
            note = _DEFECT_NOTES.get(type(defect).__name__)
            if note:
                self.notes.add(note)

    def _alternative(self, children: list[Message], depth: int, *, resource: bool) -> None:
        # The first plain-text rendering and the last (richest) HTML one.
        plain: list[str] | None = None
        html: list[str] | None = None
        outer_plain, outer_html = self.plain, self.html
        for child in children:
            self.plain, self.html = [], []
            try:
                self.walk(child, depth + 1, resource=resource)
            finally:
                child_plain, child_html = self.plain, self.html
                self.plain, self.html = outer_plain, outer_html
            if child_plain and plain is None:
                plain = child_plain
            if child_html:
                html = child_html
        self.plain.extend(plain or [])
        self.html.extend(html or [])

    def _related(self, part: Message, children: list[Message], depth: int) -> None:
        if not children:
            return
        start = _content_id(_param(part, "start"))
        root = next((c for c in children if start and _content_id_of(c) == start), children[0])
        self.walk(root, depth + 1)
        for child in children:
            if child is not root:
                self.walk(child, depth + 1, resource=True)

    def _payload(self, part: Message, limit: int | None = None) -> tuple[bytes, bool]:
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = b""
        if limit is not None and len(data) > limit:
            return data[:limit], True
        return data, False

    def _leaf(self, part: Message, content_type: str, *, resource: bool) -> None:
        if content_type.startswith("multipart/"):
            # A multipart whose boundary never shows up: its body is all there is to show.
            self._body(part, "text/plain")
            return
        disposition = _disposition(part)
        filename = _filename(part, self.notes)
        if (
            content_type in ("text/plain", "text/html")
            and disposition != "attachment"
            and not filename
            and not resource
        ):
            self._body(part, content_type)
            return
        if content_type in ("application/ms-tnef", "application/vnd.ms-tnef") or (
            (filename or "").lower() == "winmail.dat"
        ):
            data, _ = self._payload(part)
            try:
                contents = tnef_extract(data)
            except TnefError as exc:
                self.notes.add(f"winmail.dat could not be decoded ({exc}); kept as it is")
            else:
                for file in contents.files:
                    declared = file.content_type if _TYPE.fullmatch(file.content_type) else ""
                    guessed = mimetypes.guess_type(file.filename)[0] or "application/octet-stream"
                    self._add_attachment(
                        content=file.content,
                        declared=declared or guessed,
                        filename=file.filename,
                        content_id=file.content_id or None,
                        is_inline=False,
                    )
                if contents.body_text:
                    self.tnef_text.append(contents.body_text)
                if contents.body_html:
                    self.tnef_html.append(contents.body_html)
                return
        self._attachment(part, content_type, disposition, filename, resource=resource)

    def _body(self, part: Message, content_type: str) -> None:
        is_html = content_type == "text/html"
        data, truncated = self._payload(part, _HTML_BYTES_LIMIT if is_html else _TEXT_BYTES_LIMIT)
        if truncated and is_html:
            self.notes.add(f"HTML longer than {HTML_SIZE_LIMIT:,} characters; the rest was dropped")
        self.truncated = self.truncated or (truncated and not is_html)
        charset = _charset(part)
        if not self.notes.body_codecs and charset:
            self.notes.body_codecs = _codecs_for(_LABEL_JUNK.sub("", charset.lower())[:40])
        text = _plain_text(
            _decoded(data, charset, self.notes, f"the {content_type} part", partial=truncated)
        )
        if is_html:
            self.html.append(text)
            return
        if _param(part, "format").lower() == "flowed":
            text = _unflowed(text, delsp=_param(part, "delsp").lower() == "yes")
        self.plain.append(text)

    def _attachment(
        self,
        part: Message,
        content_type: str,
        disposition: str | None,
        filename: str | None,
        *,
        resource: bool,
    ) -> None:
        content_id = _content_id_of(part)
        data, _ = self._payload(part)
        self._add_attachment(
            content=data,
            declared=content_type,
            filename=filename,
            content_id=content_id,
            is_inline=disposition == "inline"
            or (disposition is None and (resource or content_id is not None)),
        )

    def _add_attachment(
        self,
        *,
        content: bytes,
        declared: str,
        filename: str | None,
        content_id: str | None,
        is_inline: bool,
    ) -> None:
        content_type = _sniffed_type(content, declared, filename or "")
        self.attachments.append(
            ParsedAttachment(
                filename=_clean_filename(filename, content_type),
                content_type=content_type,
                content=content,
                content_id=content_id,
                is_inline=is_inline,
            )
        )

    def _embedded_message(self, part: Message) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, Message):
            # Written back with the headers as they were received, not re-folded.
            data = inner.as_bytes(policy=_PARSE_POLICY)
            subject = _header_text(_Headers(inner, self.notes).first("subject"), self.notes)
        else:
            data, _ = self._payload(part)
            subject = ""
        name = _filename(part, self.notes) or (f"{subject[:150]}.eml" if subject else None)
        self._add_attachment(
            content=data,
            declared="message/rfc822",
            filename=name or "message.eml",
            content_id=_content_id_of(part),
            is_inline=False,
        )

    def _delivery_status(self, part: Message) -> None:
        payload = part.get_payload()
        if isinstance(payload, list):
            for block in payload:
                if isinstance(block, Message):
                    self.dsn_blocks.append([(str(n), str(v)) for n, v in block.raw_items()])
            return
        data, _ = self._payload(part, _TEXT_BYTES_LIMIT)
        self.dsn_blocks.extend(_field_blocks(data.decode("utf-8", errors="replace")))


def _content_type(part: Message) -> str:
    try:
        value = part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"
    return value if _TYPE.fullmatch(value) else "application/octet-stream"


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:
        return ""
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return _one_line(value) if isinstance(value, str) else ""


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return _param(part, "charset") or None


def _disposition(part: Message) -> str | None:
    try:
        value = part.get_content_disposition()
    except Exception:
        value = "attachment"
    if value is None or value == "inline":
        return value
    return "attachment"  # RFC 2183: an unknown disposition is treated as an attachment


def _filename(part: Message, notes: _Report) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
        for header in ("content-disposition", "content-type"):
            match = _FILENAME_PARAM.search(_unsurrogated(str(part.get(header, "")), notes))
            if match:
                name = match.group(1) or match.group(2)
                break
    if not name:
        return None
    return _encoded_words_decoded(_unsurrogated(str(name), notes), notes)


def _content_id(value: str | None) -> str | None:
    if not value:
        return None
    clean = _ID_JUNK.sub("", _SURROGATES.sub("", str(value))).strip("<>")
    return clean if clean and len(clean) <= _ID_CHARS else None


def _content_id_of(part: Message) -> str | None:
    for name, value in part.raw_items():
        if str(name).lower() == "content-id":
            return _content_id(str(value))
    return None


def _field_blocks(text: str) -> list[list[tuple[str, str]]]:
    """RFC 3464 field groups from the text of a delivery-status part."""
    blocks: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
                current = []
        elif line[:1] in " \t" and current:
            name, value = current[-1]
            current[-1] = (name, f"{value} {line.strip()}")
        elif ":" in line:
            name, _, value = line.partition(":")
            current.append((name.strip(), value.strip()))
    if current:
        blocks.append(current)
    return blocks


def _unflowed(text: str, *, delsp: bool) -> str:
    """RFC 3676 format=flowed text with its soft line breaks joined again."""
    out: list[str] = []
    paragraph: str | None = None
    paragraph_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        if paragraph is not None and depth != paragraph_depth:
            out.append(_quoted(paragraph, paragraph_depth))
            paragraph = None
        paragraph = content if paragraph is None else paragraph + content
        paragraph_depth = depth
        if not flowed:
            out.append(_quoted(paragraph, depth))
            paragraph = None
    if paragraph is not None:
        out.append(_quoted(paragraph, paragraph_depth))
    return "\n".join(out)


def _quoted(text: str, depth: int) -> str:
    return f"{'>' * depth} {text}" if depth else text


# --- the mail as a whole --------------------------------------------------------------------


def _bounce(blocks: list[list[tuple[str, str]]], notes: _Report) -> tuple[list[str], str]:
    recipients: list[str] = []
    reasons: list[str] = []
    for block in blocks:
        fields = {name.strip().lower(): _one_line(_unsurrogated(v, notes)) for name, v in block}
        if not fields.get("action", "").lower().startswith("failed"):
            continue
        for key in ("final-recipient", "original-recipient"):
            addr = _address(fields.get(key, "").rpartition(";")[2])
            if addr:
                if addr not in recipients:
                    recipients.append(addr)
                break
        status = fields.get("status", "")
        diagnostic = re.sub(r"^\s*smtp\s*;\s*", "", fields.get("diagnostic-code", ""), flags=re.I)
        reason = diagnostic or status
        if diagnostic and status and status not in diagnostic:
            reason = f"{status} {diagnostic}"
        if reason and reason not in reasons:
            reasons.append(reason)
    return recipients, "; ".join(reasons)[:_REASON_CHARS]


_AUTOMATIC_SENDERS = re.compile(
    r"(?:^|[\s<\"'(])(?:mailer-daemon|postmaster)(?:@|$|[\s>\"')])", re.I
)


def _auto_submitted(headers: _Headers, *, is_report: bool) -> bool:
    auto = headers.first("auto-submitted")
    if auto is not None and _one_line(auto).split(";")[0].strip().lower() != "no":
        return True
    precedence = _one_line(headers.first("precedence") or "").lower()
    if precedence in {"bulk", "list", "junk"}:
        return True
    if any(
        headers.has(name)
        for name in ("x-auto-response-suppress", "list-id", "x-autoreply", "x-autorespond")
    ):
        return True
    for value in headers.all("from") + headers.all("return-path"):
        if _AUTOMATIC_SENDERS.search(_one_line(value)):
            return True
    if any(_one_line(value).replace(" ", "") in ("<>", "") for value in headers.all("return-path")):
        return True
    return is_report


def _parsed(raw: bytes, notes: _Report) -> ParsedEmail:
    message = email.message_from_bytes(raw, policy=_PARSE_POLICY)
    headers = _Headers(message, notes)

    walker = _Walker(notes)
    walker.walk(message)

    senders = [pair for value in headers.all("from") for pair in _address_list(value, notes)]
    from_name, from_address = next(
        ((name, addr) for name, addr in senders if addr), senders[0] if senders else ("", "")
    )
    reply_to = _addresses(headers.all("reply-to"), notes)

    plain = "\n\n".join(chunk.strip("\n") for chunk in walker.plain if chunk.strip())
    raw_html = "\n".join(chunk for chunk in walker.html if chunk.strip())
    if not plain and not raw_html:
        plain = "\n\n".join(walker.tnef_text)
        raw_html = "\n".join(walker.tnef_html)
    html = ""
    if raw_html:
        html, html_note = email_html_sanitize_noted(raw_html)
        html = html.strip()
        if html_note:
            notes.add(html_note)
    text = plain.strip("\n") if plain.strip() else email_html_to_text(html, limit=TEXT_LIMIT)
    text = _plain_text(text)
    if len(text) > TEXT_LIMIT or walker.truncated:
        text = text[:TEXT_LIMIT] + TRUNCATION_MARKER
        notes.add(f"Message text longer than {TEXT_LIMIT:,} characters; the rest was dropped")

    language_hint = _one_line(headers.first("content-language") or "")[:100]
    split = reply_text_split(text, language_hint=language_hint)
    bounced, reason = _bounce(walker.dsn_blocks, notes)
    is_report = _content_type(message) == "multipart/report" or bool(walker.dsn_blocks)

    return ParsedEmail(
        message_id=next(iter(_message_ids(headers.all("message-id")[:1])), None),
        in_reply_to=_message_ids(headers.all("in-reply-to")),
        references=_message_ids(headers.all("references"))[-_MAX_REFERENCES:],
        from_name=from_name,
        from_address=from_address,
        reply_to=reply_to[0] if reply_to else "",
        to=_addresses(headers.all("to"), notes),
        cc=_addresses(headers.all("cc"), notes),
        delivered_to=_addresses_in_text(
            headers.all("delivered-to")
            + headers.all("x-original-to")
            + headers.all("x-forwarded-to")
            + headers.all("x-forwarded-for")
        ),
        subject=_header_text(headers.first("subject"), notes)[:_SUBJECT_CHARS],
        date=_date(headers.first("date")),
        text=text,
        html=html,
        visible_text=split.visible,
        quoted_text=split.quoted,
        attachments=walker.attachments,
        auto_submitted=_auto_submitted(headers, is_report=is_report),
        is_bounce=bool(bounced),
        bounced_recipients=bounced,
        bounce_reason=reason,
        language_hint=language_hint,
        parse_error=notes.summary(),
    )


def _unreadable(raw: bytes, notes: _Report) -> ParsedEmail:
    """What can be shown of a message the MIME parser gave up on: its bytes as text."""
    text = _plain_text(raw[:_TEXT_BYTES_LIMIT].decode("utf-8", errors="replace"))
    if len(text) > TEXT_LIMIT or len(raw) > _TEXT_BYTES_LIMIT:
        text = text[:TEXT_LIMIT] + TRUNCATION_MARKER
    return ParsedEmail(
        message_id=None,
        in_reply_to=[],
        references=[],
        from_name="",
        from_address="",
        reply_to="",
        to=[],
        cc=[],
        delivered_to=[],
        subject="",
        date=None,
        text=text,
        html="",
        visible_text=text,
        quoted_text="",
        attachments=[],
        auto_submitted=False,
        is_bounce=False,
        bounced_recipients=[],
        bounce_reason="",
        language_hint="",
        parse_error=notes.summary(),
    )


def email_parse(raw: bytes) -> ParsedEmail:
    """Everything ingestion needs from a received message. Never raises: whatever can't be
    read is described in `parse_error` and the rest is returned as far as it could be read."""
    notes = _Report()
    if isinstance(raw, str):  # a caller's mistake shouldn't cost the mail
        raw = raw.encode("utf-8", "surrogateescape")
    try:
        return _parsed(raw, notes)
    except Exception as exc:  # the contract: a best-effort result, never an exception
        notes.add(f"Unreadable message ({type(exc).__name__}); shown as raw text")
        try:
            return _unreadable(raw, notes)
        except Exception:
            return _unreadable(b"", notes)
