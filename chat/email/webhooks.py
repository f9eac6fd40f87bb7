"""The webhook door: anymail's `inbound` signal (its only way to hand over a parsed webhook)
becomes one email_receive call with the raw message."""

from __future__ import annotations

import json
import logging
from typing import Any

from anymail.signals import AnymailInboundEvent, inbound

from chat.email.receive import email_receive

log = logging.getLogger(__name__)

# EmailMessage.source holds at most 16 characters ("webhook:postmark").
_SOURCE_NAMES = {
    "Mailgun": "mailgun",
    "Postmark": "postmark",
    "SendGrid": "sendgrid",
    "Amazon SES": "ses",
}


def inbound_webhook_received(
    sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any
) -> None:
    """Store the mail, or raise so the view answers 500 and the provider retries."""
    message = event.message
    if message is None:
        return
    recipients = _envelope_recipients(event, esp_name)
    source = "webhook:" + _SOURCE_NAMES.get(esp_name, "other")
    deliveries = email_receive(message.as_bytes(), recipients=recipients, source=source)
    for delivery in deliveries:
        result = delivery.result
        if delivery.accepted and result is not None:
            log.info(
                "Mail for %s stored (%s): ticket=%s status=%s",
                delivery.recipient,
                source,
                f"#{result.ticket_number}" if result.ticket_number else "-",
                result.status,
            )
    if not any(d.accepted for d in deliveries):
        # Answered 200 all the same: a retry cannot make an unknown workspace exist.
        log.warning("Mail from %s refused: no workspace among %s", source, recipients)


def _envelope_recipients(event: AnymailInboundEvent, esp_name: str) -> list[str]:
    """The addresses the provider delivered the mail to. anymail keeps only the first; one mail
    to two workspaces must reach both."""
    message = event.message
    found: list[str] = []
    try:
        if esp_name == "Amazon SES":
            found = list(event.esp_event["receipt"]["recipients"])
        elif esp_name == "SendGrid":
            found = list(json.loads(event.esp_event.POST["envelope"])["to"])
    except (KeyError, TypeError, ValueError):
        found = []
    if not found and message.envelope_recipient:
        found = [a.strip() for a in str(message.envelope_recipient).split(",")]
    if not found:
        # No envelope at all: every visible recipient; email_receive keeps those at the
        # inbound domain and refuses the rest.
        found = [a.addr_spec for a in [*message.to, *message.cc] if a.addr_spec]
    return [a for a in found if isinstance(a, str) and a]


def connect() -> None:
    inbound.connect(inbound_webhook_received, dispatch_uid="chat.email.webhooks")
