"""Row locks in one order everywhere: a ticket's conversations, then the ticket.

message_create locks a conversation and then its ticket; ticket actions take the same order, so
two writers never wait on each other in a circle.
"""

from __future__ import annotations

from chat.models import Conversation
from helpdesk.tickets.models import Ticket


def ticket_lock(ticket_id: int) -> tuple[Ticket, list[Conversation]]:
    conversations = list(
        Conversation.objects.select_for_update(of=("self",))
        .select_related("contact", "assignee")
        .filter(ticket_id=ticket_id)
        .order_by("pk")
    )
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("requester", "assignee")
        .get(pk=ticket_id)
    )
    return ticket, conversations
