"""Turning one received mail into a message on the right ticket (DOMAIN.md threading order)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngestResult:
    status: str  # "stored" | "duplicate" | "bounce" | "dropped"
    ticket_number: int | None = None
    ticket_id: int | None = None
    message_id: int | None = None  # our Message row
    new_ticket: bool = False
    detail: str = ""


def email_ingest(raw: bytes, *, source: str, recipient: str = "", token: str = "") -> IngestResult:
    """Store `raw` in the current workspace schema. Never raises for anything in the mail.

    `source` is "smtp", "imap" or "webhook:<esp>"; `recipient` the address it reached us at,
    `token` the +token part of it (a signed ticket reference), if any.
    """
    raise NotImplementedError  # being written by the lead
