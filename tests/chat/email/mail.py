"""Building raw mails for ingestion tests, the way a mail client would write them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone


def mail_bytes(
    *,
    sender: str = "Ana Silva <ana@example.com>",
    to: str = "acme@mail.localhost",
    subject: str = "Where is my order?",
    body: str = "Hello, my order #4411 has not arrived yet.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A plain-text mail; ids are given without angle brackets."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(timezone.now())
    mail["Message-ID"] = f"<{message_id}>" if message_id else make_msgid(domain="example.com")
    if in_reply_to:
        mail["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        mail["References"] = " ".join(f"<{r}>" for r in references)
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail.as_bytes()
