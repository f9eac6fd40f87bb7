"""`manage.py email_receiver`: the built-in SMTP receiver in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from chat.email.smtp_receiver import InboundSmtpServer


class Command(BaseCommand):
    help = (
        "Receive mail for <workspace>@INBOUND_EMAIL_DOMAIN over SMTP (no AUTH, no TLS: keep it on "
        "127.0.0.1 or behind a real MTA)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=None, help="Default: INBOUND_SMTP_HOST.")
        parser.add_argument("--port", type=int, default=None, help="Default: INBOUND_SMTP_PORT.")

    def handle(self, *args: Any, **options: Any) -> None:
        server = InboundSmtpServer(host=options["host"], port=options["port"])
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        server.start()  # logs where it listens, and later each mail and the stop
        try:
            while not stop.wait(1):  # a timed wait so the signal handler always gets to run
                pass
        finally:
            server.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
