"""The one way mail comes in: every door (SMTP receiver, IMAP poller, provider webhooks) hands
the raw message here, with the addresses it was delivered to."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.urls import get_urlconf, set_urlconf
from django_tenants.utils import tenant_context

from chat.email.ingest import IngestResult, email_ingest
from chat.email.references import recipient_route
from tenants.models import Tenant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    recipient: str
    accepted: bool
    reason: str = ""  # why not accepted
    result: IngestResult | None = None


def recipient_workspace(address: str) -> Tenant | None:
    """The active workspace an inbound address belongs to, or None (refuse at RCPT time)."""
    route = recipient_route(address)
    if route is None:
        return None
    return Tenant.objects.filter(slug=route[0], status=Tenant.Status.ACTIVE).first()


def email_receive(raw: bytes, *, recipients: Sequence[str], source: str) -> list[Delivery]:
    """Ingest `raw` once per distinct workspace among `recipients`. Runs in the public schema.

    Unknown or suspended workspaces are refused per recipient; the mail itself never makes this
    raise (a parse failure is stored with the raw message, see email_ingest).
    """
    # A webhook arrives on the public host, whose urlconf is active; the mail is stored (and its
    # payloads' URLs built) in a workspace, whose URLs are those of ROOT_URLCONF.
    request_urlconf = get_urlconf()
    set_urlconf(None)
    try:
        return _deliver(raw, recipients=recipients, source=source)
    finally:
        set_urlconf(request_urlconf)


def _deliver(raw: bytes, *, recipients: Sequence[str], source: str) -> list[Delivery]:
    deliveries: list[Delivery] = []
    seen: set[str] = set()
    for recipient in recipients:
        route = recipient_route(recipient)
        tenant = recipient_workspace(recipient) if route else None
        if route is None or tenant is None:
            deliveries.append(Delivery(recipient, accepted=False, reason="No such mailbox."))
            continue
        if tenant.schema_name in seen:
            continue
        seen.add(tenant.schema_name)
        with tenant_context(tenant):
            result = email_ingest(raw, source=source, recipient=recipient, token=route[1])
        deliveries.append(Delivery(recipient, accepted=True, result=result))
    return deliveries
