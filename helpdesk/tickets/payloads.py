"""The JSON shape of a ticket for agents: the inbox list, the socket and the API share it."""

from __future__ import annotations

from typing import Any

from chat.payloads import contact_brief, iso_utc
from helpdesk.tickets.models import Ticket


def ticket_summary(ticket: Ticket) -> dict[str, Any]:
    """Needs the ticket's requester and assignee loaded (select_related)."""
    assignee = ticket.assignee
    requester = ticket.requester
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": {"id": assignee.pk, "name": assignee.name} if assignee else None,
        "tags": list(ticket.tags),
        "channels": list(ticket.channels),
        "requester": {
            **contact_brief(requester),
            "email_failing": requester.email_failing_since is not None,
        },
        "merged_into": ticket.merged_into_id,
        "follow_up_of": ticket.follow_up_of_id,
        "last_message_preview": ticket.last_message_preview,
        "last_message_sender_kind": ticket.last_message_sender_kind,
        "unread_count": ticket.unread_count,
        "created_at": iso_utc(ticket.created_at),
        "last_activity_at": iso_utc(ticket.last_activity_at),
        "solved_at": iso_utc(ticket.solved_at),
        "closed_at": iso_utc(ticket.closed_at),
    }
