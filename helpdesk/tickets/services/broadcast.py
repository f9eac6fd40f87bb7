"""Telling agent sockets that a ticket changed, after commit."""

from __future__ import annotations

from helpdesk.realtime.groups import agents_group, broadcast_on_commit
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.payloads import ticket_summary
from tenants.connection import connection


def ticket_broadcast_changed(ticket: Ticket) -> None:
    broadcast_on_commit(
        group=agents_group(connection.schema_name),
        event={"type": "ticket.updated", "ticket": ticket_summary(ticket)},
    )
