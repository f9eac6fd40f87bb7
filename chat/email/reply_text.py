"""The new part of a reply, split from the quoted history and the signature below it.

The reply headers ("On ... wrote:", Outlook's "From: / Sent:" block, "-----Original Message-----"
in the languages clients write them) come from mail-parser-reply's maintained patterns. Around
them this module adds what the library leaves to its callers:

- it cuts whole lines of the original text, so the visible part keeps its layout (the library
  strips every line) and the cut part is exactly what was removed;
- Spanish, Portuguese and Chinese "wrote" lines, Japanese Apple Mail and "...さんは書きました:"
  lines, Outlook's Japanese headers and Chinese ones with full-width colons, and Foxmail's
  separator, which the library's own patterns miss, are added here;
- a field block only counts when it has a "From"-like line, so a customer listing
  "Date: ..." and "To: ..." lines about an order keeps that text;
- signatures are cut only at the "-- " delimiter and at "Sent from my ..." lines near the end,
  not at greetings like "Thanks," (the library's default), which would hide real content;
- a trailing block of "> " lines and the attribution line above it count as quoted history in
  any language;
- the search looks at a bounded head of the text, since the library's patterns are slow on
  long lines and long texts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailparser_reply.constants import MAIL_LANGUAGES  # type: ignore[import-untyped]
from mailparser_reply.parser import EmailMessage  # type: ignore[import-untyped]

# Languages always looked for. Others the library knows (pl, sv, da, cs) come in only when the
# mail says it is in them: their patterns match ordinary English lines ("Data: ..." alone is a
# Polish header) and each one adds to the search time.
DEFAULT_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "zh", "ja", "ko")

# Quoted history starts near the top of a reply; the head searched is bounded so a long text or
# a hostile one can't make the patterns (some are quadratic per line) take seconds.
_SEARCH_CHARS = 64_000
_SEARCH_LINE_CHARS = 300

_QUOTE = r"(?:> ?)*"
_EXTRA_HEADERS = [
    # Spanish Gmail / Apple Mail: "El lun, 6 ene 2025 a las 10:14, Ana (<ana@x.es>) escribió:"
    rf"^{_QUOTE}El\s.+?\sescribi[óo]\s?:$",
    # Portuguese Gmail / Apple Mail: "Em seg., 6 de jan. de 2025 às 10:14, Ana <a@x> escreveu:"
    rf"^{_QUOTE}Em\s.+?\sescreveu\s?:$",
    # Chinese Gmail "Ana <ana@x.cn> 于2025年1月6日周一 10:14写道" and Apple Mail
    # "2025年1月6日 10:14, Ana <ana@x.cn> 写道" (traditional 寫道), ending in a full-width colon.
    rf"^{_QUOTE}.{{0,200}}?\d{{4}}\s?年.{{0,200}}?[写寫]道\s?[：:]$",
    # Japanese: old Gmail and Evolution "2009/07/25 12:15 に Name <a@x> さんは書きました:",
    # Apple Mail "2025/01/06 10:14、Name <a@x>のメール:", others "...のメッセージ:".
    rf"^{_QUOTE}.{{0,200}}?\d.{{0,200}}?(?:書きました|のメール|のメッセージ)\s?[：:]$",
    # Japanese Outlook: 差出人 / 送信日時 / 宛先 / 件名.
    rf"((?:(?:^|\n){_QUOTE}[* ]*(?:差出人|送信日時|宛先|件名|CC)\s?[:：].*){{2,}})",
    # Chinese Outlook with full-width colons after 发件人 / 发送时间 / 收件人 / 主题.
    rf"((?:(?:^|\n){_QUOTE}[* ]*(?:发件人|发送时间|日期|收件人|主题|抄送)\s?[:：].*){{2,}})",
    # Traditional Chinese Outlook: 寄件者 / 寄件日期 / 收件者 / 主旨.
    rf"((?:(?:^|\n){_QUOTE}[* ]*(?:寄件者|寄件日期|收件者|主旨|副本)\s?[:：].*){{2,}})",
    # Foxmail / QQ Mail: "------------------ 原始邮件 ------------------".
    rf"^{_QUOTE}-{{3,}}\s*(?:原始邮件|原始郵件|Original)\s*-{{3,}}$",
]

# Outlook-style blocks always name the sender; two other "Field: value" lines alone are more
# likely order details the customer typed.
_FIELD_LINE = re.compile(r"^(?:> ?)*[* ]*[^\W\d_][\w \-]{0,24}\*?\s?[:：]", re.MULTILINE)
_FROM_FIELD = re.compile(
    r"^(?:> ?)*[* ]*"
    r"(?:From|Von|De|Da|Van|Fra|Från|Od|发件人|寄件者|差出人|보낸\s?사람)\s?\*?\s?[:：]",
    re.IGNORECASE | re.MULTILINE,
)

_SENT_FROM_EXTRA = [
    r"Sent from (?:my )?(?:iPhone|iPad|Android|Samsung|Mail for Windows|Outlook|Yahoo Mail)",
    r"Get Outlook for (?:iOS|Android)",
    r"Von meinem .{1,40} gesendet",
    r"Envoy[ée] de mon .{1,40}",
    r"Enviado desde mi .{1,40}",
    r"Enviado do meu .{1,40}",
    r"Inviato da(?:l mio)? .{1,40}",
    r"Verzonden (?:vanaf|met) (?:mijn )?.{1,40}",
    r"(?:从我的|發自我的|发自我的).{1,40}",
    r".{1,20}から送信",
]
_SIGNATURE_ZONE_LINES = 6


@dataclass(frozen=True)
class ReplySplit:
    visible: str  # what the sender wrote this time
    quoted: str  # quoted history and signature cut from it ("" if nothing was cut)


def _languages(language_hint: str) -> tuple[str, ...]:
    hinted = language_hint.split(",")[0].strip().split("-")[0].lower()
    if hinted and hinted in MAIL_LANGUAGES and hinted not in DEFAULT_LANGUAGES:
        return (*DEFAULT_LANGUAGES, hinted)
    return DEFAULT_LANGUAGES


@functools.lru_cache(maxsize=16)
def _header_patterns(languages: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    library = EmailMessage(text="", languages=list(languages)).HEADER_REGEX
    extra = re.compile("|".join(_EXTRA_HEADERS), re.IGNORECASE | re.MULTILINE)
    return library, extra


@functools.lru_cache(maxsize=16)
def _sent_from_pattern(languages: tuple[str, ...]) -> re.Pattern[str]:
    library = [MAIL_LANGUAGES[lang].get("sent_from", "") for lang in languages]
    alternatives = [f"(?:{pattern})" for pattern in library if pattern] + _SENT_FROM_EXTRA
    return re.compile(rf"^(?:{'|'.join(alternatives)})", re.IGNORECASE)


def _search_lines(lines: list[str]) -> list[str]:
    """The head of the text as the library expects it (lines stripped), one entry per original
    line so match positions map back; overlong lines can't be headers and are blanked."""
    head: list[str] = []
    total = 0
    for line in lines:
        if total > _SEARCH_CHARS:
            break
        stripped = line.strip()
        head.append(stripped if len(stripped) <= _SEARCH_LINE_CHARS else "")
        total += len(stripped) + 1
    return head


def _first_header_line(head: list[str], patterns: Iterable[re.Pattern[str]]) -> int | None:
    text = "\n".join(head)
    first: int | None = None
    for pattern in patterns:
        for match in pattern.finditer(text):
            start = match.start()
            while start < match.end() and text[start] == "\n":
                start += 1
            found = match.group(0)
            if len(_FIELD_LINE.findall(found)) >= 2 and not _FROM_FIELD.search(found):
                continue
            line = text.count("\n", 0, start)
            if first is None or line < first:
                first = line
            break
    return first


def _is_blank(line: str) -> bool:
    return not line.strip()


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _is_separator(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= 5 and set(stripped) <= set("_-=*")


def _trailing_quote_start(lines: list[str], end: int) -> int:
    """Where a block of "> " lines that runs to `end` begins (with the "...:" line introducing
    it), or `end` when the text before `end` doesn't finish with such a block."""
    index = end
    while index > 0 and _is_blank(lines[index - 1]):
        index -= 1
    if index == 0 or not _is_quoted(lines[index - 1]):
        return end
    while index > 0 and (_is_quoted(lines[index - 1]) or _is_blank(lines[index - 1])):
        index -= 1
    while index < end and _is_blank(lines[index]):
        index += 1
    above = index
    while above > 0 and _is_blank(lines[above - 1]):
        above -= 1
    if above > 0:
        attribution = lines[above - 1].strip()
        if attribution.endswith((":", "：")) and len(attribution) <= _SEARCH_LINE_CHARS:
            return above - 1
    return index


def _signature_start(lines: list[str], end: int, sent_from: re.Pattern[str]) -> int:
    content = [i for i in range(end) if not _is_blank(lines[i])]
    if len(content) < 2:
        return end
    for index in content[1:]:
        if lines[index] == "-- " or (lines[index].strip() == "--" and index >= content[-1] - 10):
            return index
    for index in content[1:][-_SIGNATURE_ZONE_LINES:]:
        stripped = lines[index].strip()
        if len(stripped) <= 100 and sent_from.match(stripped):
            return index
    return end


def reply_text_split(text: str, *, language_hint: str = "") -> ReplySplit:
    """Split `text` (a mail's plain text) into what is new and what was quoted or signed.

    When the cut would leave nothing (a forward without comment, a bottom-posted reply), the
    whole text stays visible.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    languages = _languages(language_hint)
    cut = len(lines)

    header = _first_header_line(_search_lines(lines), _header_patterns(languages))
    if header is not None:
        cut = header
        while cut > 0 and (_is_blank(lines[cut - 1]) or _is_separator(lines[cut - 1])):
            cut -= 1
    cut = _trailing_quote_start(lines, cut)
    cut = _signature_start(lines, cut, _sent_from_pattern(languages))

    visible = "\n".join(lines[:cut]).strip("\n").rstrip()
    if not visible.strip():
        return ReplySplit(visible=text.strip("\n").rstrip(), quoted="")
    quoted = "\n".join(lines[cut:]).strip("\n").rstrip()
    return ReplySplit(visible=visible, quoted=quoted)
