"""The fixture corpus of real-shaped mails, for any test that needs one.

`corpus_raw("gmail_reply.eml")` is the message as stored (LF line endings, as checked in);
`crlf=True` gives it as it travels over SMTP. `corpus_with_headers` swaps top-level header
values without re-serializing the message, e.g. to point In-Reply-To at a Message-ID a test
just sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def corpus_names() -> list[str]:
    return sorted(path.name for path in FIXTURES.glob("*.eml"))


def corpus_raw(name: str, *, crlf: bool = False) -> bytes:
    raw = (FIXTURES / name).read_bytes()
    return raw.replace(b"\n", b"\r\n") if crlf else raw


def corpus_with_headers(name: str, headers: Mapping[str, str], *, crlf: bool = False) -> bytes:
    """The fixture with each named top-level header set to the given value (folded lines
    included; added at the top when the fixture lacks it). An empty value removes it."""
    head, separator, body = corpus_raw(name).partition(b"\n\n")
    wanted = {key.lower(): value for key, value in headers.items()}
    lines: list[bytes] = []
    skipping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                lines.append(line)
            continue
        name_part = line.split(b":", 1)[0].decode("ascii", "replace").strip().lower()
        skipping = name_part in wanted
        if skipping:
            value = wanted.pop(name_part)
            if value:
                lines.append(f"{line.split(b':', 1)[0].decode('ascii')}: {value}".encode())
        else:
            lines.append(line)
    added = [f"{key}: {value}".encode() for key, value in headers.items() if key.lower() in wanted]
    raw = b"\n".join(added + lines) + separator + body
    return raw.replace(b"\n", b"\r\n") if crlf else raw
