"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, collecting what Django sends it.

`smtp_sink` switches Django to its SMTP backend pointed at the sink, so a test exercises the same
path production mail takes (Celery task -> SMTP backend -> socket), then reads what arrived.
"""

from __future__ import annotations

import email
import logging
import re
import socket
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command at INFO; a failing test's output should show the test.
logging.getLogger("mail.log").setLevel(logging.WARNING)

_URL_RE = re.compile(r"https?://[^\s<>\"']+")


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    @staticmethod
    def text(message: EmailMessage) -> str:
        body = message.get_body(preferencelist=("plain",))
        assert body is not None, "the message has no text/plain part"
        return body.get_content()

    @classmethod
    def links(cls, message: EmailMessage) -> list[str]:
        return _URL_RE.findall(cls.text(message))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    try:
        yield sink
    finally:
        controller.stop()
