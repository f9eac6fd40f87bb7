"""Writes the TNEF stream inside fixtures/tnef_winmail.eml, the way Outlook lays one out.

Run `python -m tests.chat.email.make_tnef` to print the base64 body for the fixture; the tests
compare the fixture's winmail.dat with `winmail_dat()` so the two can't drift apart.
"""

from __future__ import annotations

import base64
import io
import struct
import zipfile

# Attribute ids: the attribute type in the high word, the attribute in the low word.
ATT_TNEF_VERSION = 0x00089006
ATT_OEM_CODEPAGE = 0x00069007
ATT_MESSAGE_CLASS = 0x00078008
ATT_MAPI_PROPS = 0x00069003
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005
LEVEL_MESSAGE = 1
LEVEL_ATTACHMENT = 2

PT_LONG = 0x0003
PT_STRING8 = 0x001E
PT_UNICODE = 0x001F
PR_BODY = 0x1000
PR_INTERNET_CPID = 0x3FDE
PR_ATTACH_METHOD = 0x3705
PR_ATTACH_LONG_FILENAME = 0x3707
PR_ATTACH_MIME_TAG = 0x370E

BODY = "Hello,\r\n\r\nplease find the invoice and the price list attached.\r\n\r\nJohn\r\n"
INVOICE_NAME = "Invoice 4711.pdf"
INVOICE = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PRICE_LIST_NAME = "Preisübersicht März.xlsx"
PRICE_LIST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def price_list() -> bytes:
    """A small zip with fixed timestamps, so the bytes are the same on every run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        entry = zipfile.ZipInfo("[Content_Types].xml", date_time=(2025, 1, 6, 10, 14, 0))
        archive.writestr(entry, '<?xml version="1.0"?><Types/>')
    return buffer.getvalue()


def _attribute(level: int, attribute: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BII", level, attribute, len(data)) + data + struct.pack("<H", checksum)


def _padded(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def _mapi_string(tag: int, kind: int, value: str) -> bytes:
    raw = (value + "\x00").encode("utf-16-le" if kind == PT_UNICODE else "cp1252")
    return struct.pack("<HHII", kind, tag, 1, len(raw)) + _padded(raw)


def _mapi_long(tag: int, value: int) -> bytes:
    return struct.pack("<HHI", PT_LONG, tag, value)


def _mapi(*properties: bytes) -> bytes:
    return struct.pack("<I", len(properties)) + b"".join(properties)


def _file(short_name: str, long_name: str, mime_type: str, content: bytes) -> bytes:
    rendering = struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0, 0, 0)
    return b"".join(
        [
            _attribute(LEVEL_ATTACHMENT, ATT_ATTACH_REND_DATA, rendering),
            _attribute(LEVEL_ATTACHMENT, ATT_ATTACH_TITLE, short_name.encode("cp1252") + b"\0"),
            _attribute(LEVEL_ATTACHMENT, ATT_ATTACH_DATA, content),
            _attribute(
                LEVEL_ATTACHMENT,
                ATT_ATTACHMENT,
                _mapi(
                    _mapi_long(PR_ATTACH_METHOD, 1),
                    _mapi_string(PR_ATTACH_LONG_FILENAME, PT_UNICODE, long_name),
                    _mapi_string(PR_ATTACH_MIME_TAG, PT_STRING8, mime_type),
                ),
            ),
        ]
    )


def winmail_dat() -> bytes:
    header = struct.pack("<IH", 0x223E9F78, 0x5A3C)
    message = b"".join(
        [
            _attribute(LEVEL_MESSAGE, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000)),
            _attribute(LEVEL_MESSAGE, ATT_OEM_CODEPAGE, struct.pack("<II", 1252, 0)),
            _attribute(LEVEL_MESSAGE, ATT_MESSAGE_CLASS, b"IPM.Microsoft Mail.Note\0"),
            _attribute(
                LEVEL_MESSAGE,
                ATT_MAPI_PROPS,
                _mapi(_mapi_long(PR_INTERNET_CPID, 1252), _mapi_string(PR_BODY, PT_STRING8, BODY)),
            ),
        ]
    )
    files = _file("INVOIC~1.PDF", INVOICE_NAME, "application/pdf", INVOICE) + _file(
        "PREIS~1.XLS", PRICE_LIST_NAME, PRICE_LIST_TYPE, price_list()
    )
    return header + message + files


if __name__ == "__main__":
    encoded = base64.b64encode(winmail_dat()).decode("ascii")
    print("\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)))
