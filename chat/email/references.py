"""Signed references in our mail: Message-IDs and reply+token addresses that name a ticket.

A reply to our mail names the ticket in its In-Reply-To / References (our Message-ID) or in the
address it was sent to. Both carry an HMAC over the workspace and the ticket id, so a forged or
altered reference matches nothing (DOMAIN.md: a bad HMAC opens a new ticket).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from django.conf import settings

from tenants.connection import connection

_SIG_CHARS = 16
_MESSAGE_ID_RE = re.compile(r"^tk\.(\d{1,12})\.([a-z0-9]{8,32})\.([a-z2-7]{16})@(.+)$")
_TOKEN_RE = re.compile(r"^t(\d{1,12})\.([a-z2-7]{16})$")


def _signature(kind: str, ticket_id: int, extra: str = "") -> str:
    key = hashlib.sha256(("email-references:" + settings.SECRET_KEY).encode()).digest()
    payload = f"{kind}\n{connection.schema_name}\n{ticket_id}\n{extra}".encode()
    digest = hmac.new(key, payload, hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:_SIG_CHARS]


def outbound_message_id(*, ticket_id: int) -> str:
    """A new Message-ID (without <>) for mail we send about a ticket."""
    nonce = secrets.token_hex(6)
    sig = _signature("mid", ticket_id, nonce)
    return f"tk.{ticket_id}.{nonce}.{sig}@{settings.INBOUND_EMAIL_DOMAIN}"


def message_id_ticket(message_id: str) -> int | None:
    """The ticket id a Message-ID of ours names, or None (not ours, or the HMAC is wrong)."""
    match = _MESSAGE_ID_RE.match(message_id.strip().strip("<>").lower())
    if match is None:
        return None
    ticket_id, nonce, sig = int(match.group(1)), match.group(2), match.group(3)
    if not hmac.compare_digest(sig, _signature("mid", ticket_id, nonce)):
        return None
    return ticket_id


def workspace_address(slug: str) -> str:
    """The workspace's inbound address: mail sent or forwarded here becomes tickets."""
    return f"{slug}@{settings.INBOUND_EMAIL_DOMAIN}"


def reply_address(*, slug: str, ticket_id: int) -> str:
    """The Reply-To of our mail about a ticket: <slug>+t<id>.<hmac>@<inbound domain>."""
    return f"{slug}+t{ticket_id}.{_signature('addr', ticket_id)}@{settings.INBOUND_EMAIL_DOMAIN}"


def reply_token_ticket(token: str) -> int | None:
    """The ticket id in the +token part of a recipient address, or None when forged."""
    match = _TOKEN_RE.match(token.strip().lower())
    if match is None:
        return None
    ticket_id, sig = int(match.group(1)), match.group(2)
    if not hmac.compare_digest(sig, _signature("addr", ticket_id)):
        return None
    return ticket_id


def recipient_route(address: str) -> tuple[str, str] | None:
    """(workspace slug, +token or "") for an address at the inbound domain; None otherwise."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    if not local or domain != settings.INBOUND_EMAIL_DOMAIN:
        return None
    slug, _, token = local.partition("+")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", slug):
        return None
    return slug, token
