"""The built-in SMTP door: aiosmtpd on INBOUND_SMTP_HOST:PORT, handing each mail to email_receive.

Meant for 127.0.0.1 (the run command, a local MTA relaying to it): no AUTH, no STARTTLS. On a
public address put a real MTA (Postfix relaying to this port) or a provider's inbound webhook in
front, which bring TLS, spam filtering and rate limits.

A mail is acknowledged with 250 only after it has been stored; any failure answers 451 so the
sending server keeps it and retries (a retry of a mail that was in fact stored is recognised by
its Message-ID and stored once).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections

from chat.email.receive import Delivery, email_receive, recipient_workspace

log = logging.getLogger(__name__)

NO_SUCH_MAILBOX = "550 5.1.1 No such mailbox"
TRY_AGAIN = "451 4.3.0 Try again later"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
# Far more than a real mail to one helpdesk needs; bounds the work one message can cause.
MAX_RECIPIENTS = 50
# Mails stored at the same time. Each worker holds one database connection.
WORKERS = 4
# How long a shutdown waits for mails being stored to finish before closing anyway.
SHUTDOWN_GRACE_SECONDS = 20

T = TypeVar("T")


class InboundHandler:
    """aiosmtpd hooks. The database is used from worker threads only: Django's ORM must not run
    on the event loop, and a slow ingestion must not stall the other sessions."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self.executor = executor
        self.in_flight = 0

    async def _in_thread(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: _with_db(func, *args, **kwargs))

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return TOO_MANY_RECIPIENTS
        try:
            workspace = await self._in_thread(recipient_workspace, address)
        except Exception:
            log.exception("Could not look up the workspace of %s", address)
            return TRY_AGAIN
        if workspace is None:
            return NO_SUCH_MAILBOX
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):  # only when decode_data is on; kept for safety
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = list(envelope.rcpt_tos)
        self.in_flight += 1
        try:
            deliveries = await self._in_thread(
                email_receive, bytes(raw or b""), recipients=recipients, source="smtp"
            )
        except Exception:
            log.exception("Storing a mail for %s failed; asked the sender to retry", recipients)
            return TRY_AGAIN
        finally:
            self.in_flight -= 1
        accepted = [d for d in deliveries if d.accepted]
        for delivery in deliveries:
            _log_delivery(delivery, peer=session.peer)
        if not accepted:
            # Every workspace went away (or was suspended) between RCPT and DATA.
            return NO_SUCH_MAILBOX
        return "250 OK"


def _with_db(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    # What Django's request cycle does around a request: drop connections that are broken or
    # older than CONN_MAX_AGE, so a database restart costs one 451, not a stuck worker.
    close_old_connections()
    try:
        return func(*args, **kwargs)
    finally:
        close_old_connections()


def _log_delivery(delivery: Delivery, *, peer: Any) -> None:
    if not delivery.accepted:
        log.info("Mail for %s refused: %s", delivery.recipient, delivery.reason)
        return
    result = delivery.result
    log.info(
        "Mail for %s stored: workspace=%s ticket=%s status=%s peer=%s",
        delivery.recipient,
        delivery.recipient.rpartition("@")[0].partition("+")[0].lower(),
        f"#{result.ticket_number}" if result and result.ticket_number else "-",
        result.status if result else "-",
        peer[0] if isinstance(peer, tuple) else peer,
    )


class _SharedPortController(Controller):
    """Binds with SO_REUSEPORT, so several receiver processes can listen on one port
    (INBOUND_SMTP_PROCESSES) and the kernel spreads the connections between them."""

    def _create_server(self) -> Any:
        return self.loop.create_server(
            self._factory_invoker,
            host=self.hostname,
            port=self.port,
            ssl=self.ssl_context,
            reuse_port=True,
        )

    def _trigger_server(self) -> None:
        # aiosmtpd checks its start by connecting to itself; with a shared port the kernel may
        # hand that connection to the other process, so the check would wait in vain. A broken
        # handler shows on the first real session instead.
        self.smtpd = self.factory()
        self._factory_invoked.set()


class InboundSmtpServer:
    """The receiver listening in a background thread: start(), then stop() for a clean end."""

    def __init__(self, *, host: str | None = None, port: int | None = None) -> None:
        self.host = host or settings.INBOUND_SMTP_HOST
        self.port = settings.INBOUND_SMTP_PORT if port is None else port
        self.executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="smtp-ingest")
        self.handler = InboundHandler(self.executor)
        self.controller = _SharedPortController(
            self.handler,
            hostname=self.host,
            port=self.port,
            server_hostname=settings.INBOUND_EMAIL_DOMAIN,
            ident="Helpdesk inbound mail",
            # Refused with 552 both when MAIL FROM announces SIZE= above it and when the data
            # itself grows past it (nothing of such a mail is kept).
            data_size_limit=settings.EMAIL_MAX_BYTES,
            enable_SMTPUTF8=True,
            decode_data=False,
        )
        self._stopped = threading.Event()

    @property
    def address(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> None:
        # aiosmtpd logs every command line at INFO (addresses included); our one line per mail
        # says what matters, its warnings still show.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.controller.start()
        log.info("Receiving mail for *@%s on %s", settings.INBOUND_EMAIL_DOMAIN, self.address)

    def stop(self) -> None:
        """Stop taking connections, let mails being stored finish, then close."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        server = self.controller.server
        if server is not None:
            self.controller.loop.call_soon_threadsafe(server.close)
        deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
        while self.handler.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        self.controller.stop()
        self.executor.shutdown(wait=True)
        log.info("Stopped receiving mail on %s", self.address)
