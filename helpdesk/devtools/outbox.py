"""Development outbox: outgoing mail kept as .eml files and readable at /dev/outbox/.

Lets a newcomer running the platform locally follow invitation and password-reset links without
setting up a mail server. Enabled by EMAIL_URL=outbox: (the run command's default).
"""

from __future__ import annotations

import email
import email.policy
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

NAME_RE = re.compile(r"^\d+-[0-9a-f]{8}\.eml$")


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        directory = outbox_dir()
        directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
            (directory / name).write_bytes(message.message().as_bytes())
            sent += 1
        return sent


def outbox_dir() -> Path:
    return Path(settings.OUTBOX_DIR)


def outbox_enabled() -> bool:
    return settings.DEBUG and settings.EMAIL_BACKEND.endswith("OutboxEmailBackend")


@dataclass(frozen=True)
class OutboxMessage:
    key: str
    sent_at: datetime
    subject: str
    sender: str
    to: str
    text: str
    html: str | None
    attachments: list[str]


def _parse(path: Path) -> OutboxMessage:
    msg: EmailMessage = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    attachments = [part.get_filename() or "attachment" for part in msg.iter_attachments()]
    return OutboxMessage(
        key=path.name,
        sent_at=datetime.fromtimestamp(int(path.name.split("-")[0]) / 1e9, tz=UTC),
        subject=str(msg.get("Subject", "(no subject)")),
        sender=str(msg.get("From", "")),
        to=str(msg.get("To", "")),
        text=text_part.get_content() if text_part else "",
        html=html_part.get_content() if html_part else None,
        attachments=attachments,
    )


def outbox_list(*, limit: int = 200) -> list[OutboxMessage]:
    directory = outbox_dir()
    if not directory.is_dir():
        return []
    names = sorted((p for p in directory.iterdir() if NAME_RE.match(p.name)), reverse=True)
    return [_parse(p) for p in names[:limit]]


def outbox_get(*, key: str) -> OutboxMessage | None:
    if not NAME_RE.match(key):  # never let a key walk out of the directory
        return None
    path = outbox_dir() / key
    return _parse(path) if path.is_file() else None


def outbox_clear() -> int:
    directory = outbox_dir()
    if not directory.is_dir():
        return 0
    removed = 0
    for path in directory.iterdir():
        if NAME_RE.match(path.name):
            path.unlink()
            removed += 1
    return removed
