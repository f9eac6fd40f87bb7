"""Attachments and body text from Outlook's winmail.dat (application/ms-tnef) parts.

tnefparse does the decoding. It trusts the counts written in the stream, so a few crafted bytes
can make it loop billions of times or copy the whole blob once per object; `_check_bounded`
walks the same structure first, without copying, and refuses a stream whose counts don't fit
its length.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass

from tnefparse.tnef import TNEF  # type: ignore[import-untyped]

# tnefparse logs every unusual property at WARNING/ERROR; a hostile stream would flood the log.
logging.getLogger("tnefparse").setLevel(logging.CRITICAL)

_SIGNATURE = 0x223E9F78
_ATT_MAPI_PROPS = 0x9003
_ATT_RECIPIENTS = 0x9004
_ATT_ATTACHMENT = 0x9005
_MAPI_ATTACH_DATA_OBJ = 0x3701
_MAPI_ATTACH_MIME_TAG = 0x370E
_MAPI_ATTACH_CONTENT_ID = 0x3712
_EMBEDDED_MESSAGE = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"
_FIXED_SIZES = {0x0002: 2, 0x000B: 2, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x0005: 8, 0x0006: 8,
                0x0007: 8, 0x0014: 8, 0x0040: 8, 0x0048: 16}  # fmt: skip
_VARIABLE_TYPES = {0x0000, 0x000D, 0x001E, 0x001F, 0x0102}
_MULTI_VALUE = 0x1000
_NAMED_PROPERTY = 0x8000
# tnefparse copies the rest of the stream for every object it reads; this caps that work.
_COPY_BUDGET = 1_500_000_000
_MAX_NESTING = 3


class TnefError(ValueError):
    """The stream is not TNEF, is damaged, or is shaped to make decoding too costly."""


@dataclass(frozen=True)
class TnefFile:
    filename: str  # as stored; the caller cleans it
    content: bytes
    content_type: str  # MIME type Outlook recorded, "" if none
    content_id: str


@dataclass(frozen=True)
class TnefContents:
    files: list[TnefFile]
    body_text: str
    body_html: str


def _u16(data: memoryview, offset: int) -> int:
    return int(struct.unpack_from("<H", data, offset)[0])


def _u32(data: memoryview, offset: int) -> int:
    return int(struct.unpack_from("<I", data, offset)[0])


def _padded(length: int) -> int:
    return length + (-length % 4)


def _check_properties(data: memoryview, offset: int, depth: int) -> int:
    """Walk one MAPI property list like tnefparse's decode_mapi; return the offset after it."""
    end = len(data)
    count = _u32(data, offset)
    offset += 4
    if count > (end - offset) // 4 + 1:
        raise TnefError("MAPI property count larger than the data")
    for _ in range(count):
        if offset >= end:
            break
        try:
            kind = _u16(data, offset)
            name = _u16(data, offset + 2)
            offset += 4
            if name >= _NAMED_PROPERTY:
                offset += 16
                name_kind = _u32(data, offset)
                offset += 4
                offset += 4 if name_kind == 0 else 4 + _padded(_u32(data, offset))
            values = 1
            multi = bool(kind & _MULTI_VALUE)
            if multi:
                kind ^= _MULTI_VALUE
                values = _u32(data, offset)
                offset += 4
                if values > (end - offset) // 2 + 1:
                    raise TnefError("MAPI value count larger than the data")
            for _ in range(values):
                if kind in _FIXED_SIZES:
                    offset += _FIXED_SIZES[kind]
                elif kind in _VARIABLE_TYPES:
                    items = 1
                    if not multi:
                        items = _u32(data, offset)
                        offset += 4
                        if items > (end - offset) // 4 + 1:
                            raise TnefError("MAPI item count larger than the data")
                    for _ in range(items):
                        length = _u32(data, offset)
                        offset += 4
                        item = data[offset : offset + length]
                        if name == _MAPI_ATTACH_DATA_OBJ and bytes(item[:16]) == _EMBEDDED_MESSAGE:
                            _check_bounded(item[16:], depth + 1)
                        offset += _padded(length)
                else:
                    return offset  # tnefparse stops at an unknown type too
            if values % 2 and kind in (0x0002, 0x000B):
                offset += 2
        except struct.error:
            return offset  # truncated: tnefparse stops here as well
    return offset


def _check_bounded(data: memoryview, depth: int = 0) -> None:
    if depth > _MAX_NESTING:
        raise TnefError("TNEF messages nested too deeply")
    if len(data) < 6 or _u32(data, 0) != _SIGNATURE:
        raise TnefError("not a TNEF stream")
    offset = 6
    copied = 0
    while offset + 12 < len(data):
        name = _u16(data, offset + 1)
        length = min(len(data) - offset, _u32(data, offset + 5) + 11)
        body = data[offset + 9 : offset + length - 2]
        copied += len(data) - offset
        if copied > _COPY_BUDGET:
            raise TnefError("too many TNEF objects for its size")
        if name in (_ATT_MAPI_PROPS, _ATT_ATTACHMENT) and len(body) >= 4:
            _check_properties(body, 0, depth)
        elif name == _ATT_RECIPIENTS and len(body) >= 4:
            rows = _u32(body, 0)
            if rows > len(body) // 4:
                raise TnefError("TNEF recipient count larger than the data")
            row_offset = 4
            for _ in range(rows):
                row_offset = _check_properties(body, row_offset, depth)
        offset += length


def _text(value: object, codepage: str | None) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode(codepage or "cp1252")
        except (LookupError, UnicodeDecodeError):
            return value.decode("cp1252", errors="replace")
    return value if isinstance(value, str) else ""


def _property(attachment: object, name: int, codepage: str | None) -> str:
    for prop in getattr(attachment, "mapi_attrs", []):
        if prop.name == name:
            try:
                return _text(prop.data, codepage).strip("\x00").strip()
            except Exception:  # a malformed property just isn't there
                return ""
    return ""


def tnef_extract(data: bytes) -> TnefContents:
    """The files and body stored in a TNEF stream. Raises TnefError when it can't be decoded."""
    try:
        _check_bounded(memoryview(data))
    except struct.error as exc:
        raise TnefError("truncated TNEF stream") from exc
    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception as exc:  # tnefparse raises whatever the damaged bytes lead it to
        raise TnefError(f"undecodable TNEF stream ({type(exc).__name__})") from exc
    codepage = tnef.codepage
    files: list[TnefFile] = []
    for attachment in tnef.attachments:
        content = attachment.data if isinstance(attachment.data, bytes) else b""
        try:
            name = _text(attachment.long_filename(), codepage)
        except Exception:
            name = ""
        if not content and not name:
            continue
        files.append(
            TnefFile(
                filename=name.strip("\x00").strip(),
                content=content,
                content_type=_property(attachment, _MAPI_ATTACH_MIME_TAG, codepage).lower(),
                content_id=_property(attachment, _MAPI_ATTACH_CONTENT_ID, codepage).strip("<>"),
            )
        )
    return TnefContents(
        files=files,
        body_text=_text(tnef.body, codepage).replace("\x00", "").strip(),
        body_html=_text(tnef.htmlbody, codepage).replace("\x00", "").strip(),
    )
