"""What a new message does to its ticket: activity, preview, unread count, status.

Called by chat.services.messages.message_create inside its transaction, with the conversation
row already locked (locks go conversation, then ticket; see locking.py).
"""

from __future__ import annotations

from chat.models import Conversation, Message
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.services.opening import ticket_create
from helpdesk.tickets.services.status import conversation_status_for

S = Ticket.Status
_REOPENED_BY_CUSTOMER = {S.PENDING, S.SOLVED}


def ticket_locked_for_message(conversation: Conversation, *, sender_kind: str) -> Ticket:
    """The (locked) ticket a message in this conversation belongs to.

    A customer writing on a closed ticket gets a follow-up ticket linked to it (DOMAIN.md:
    closed is final), and the conversation moves there so the chat carries on where it is.
    """
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("requester", "assignee")
        .get(conversations=conversation)
    )
    if ticket.merged_into_id is not None:
        # Merging moved every conversation away; one arriving here is a stale read.
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("requester", "assignee")
            .get(pk=ticket.merged_into_id)
        )
    if ticket.status == S.CLOSED and sender_kind == Message.SenderKind.CUSTOMER:
        follow_up = ticket_create(
            requester=ticket.requester,
            channel=conversation.channel,
            subject=ticket.subject,
            follow_up_of=ticket,
        )
        follow_up.assignee = ticket.assignee
        follow_up.save(update_fields=["assignee"])
        conversation.ticket = follow_up
        conversation.save(update_fields=["ticket"])
        ticket = follow_up
    return ticket


def ticket_message_apply(
    ticket: Ticket,
    conversation: Conversation,
    *,
    message: Message,
    preview: str,
    unread_delta: int,
) -> tuple[list[str], list[str]]:
    """Apply a new `message` to its locked ticket and conversation, on the instances only.

    Returns the changed (ticket fields, conversation fields) for the caller's save: one message
    at a time (message_create) or many in one statement (the widget's batched send).
    """
    fields = ["last_activity_at", "unread_count"]
    ticket.last_activity_at = message.created_at
    ticket.unread_count = max(0, ticket.unread_count + unread_delta)
    if conversation.channel not in ticket.channels:
        ticket.channels = [*ticket.channels, conversation.channel]
        fields.append("channels")
    if not message.is_internal:
        ticket.last_message_preview = preview
        ticket.last_message_sender_kind = message.sender_kind
        fields += ["last_message_preview", "last_message_sender_kind"]

    status = ticket.status
    snoozed = conversation.status == Conversation.Status.SNOOZED
    if message.sender_kind == Message.SenderKind.CUSTOMER:
        # On-hold waits on a third party and stays; a snoozed chat wakes when the customer
        # writes, as it always did.
        if status in _REOPENED_BY_CUSTOMER or (status == S.ON_HOLD and snoozed):
            status = S.OPEN
    elif (
        message.sender_kind == Message.SenderKind.AGENT
        and not message.is_internal
        and status == S.NEW
    ):
        status = S.OPEN
    if status != ticket.status:
        ticket.status = status
        fields.append("status")

    conversation_fields = []
    wanted = conversation_status_for(ticket.status, snoozed=snoozed and status == S.ON_HOLD)
    if conversation.status != wanted:
        conversation.status = wanted
        conversation_fields.append("status")
    if wanted != Conversation.Status.SNOOZED and conversation.snoozed_until is not None:
        conversation.snoozed_until = None
        conversation_fields.append("snoozed_until")
    return fields, conversation_fields


def ticket_unread_adjust(*, ticket_id: int, delta: int) -> None:
    """Agents read a conversation: its unread customer messages leave the ticket's count."""
    from helpdesk.tickets.services.broadcast import ticket_broadcast_changed

    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("requester", "assignee")
        .get(pk=ticket_id)
    )
    ticket.unread_count = max(0, ticket.unread_count + delta)
    ticket.save(update_fields=["unread_count"])
    ticket_broadcast_changed(ticket)
