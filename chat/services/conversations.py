"""Agent actions on conversations: assign, resolve / reopen / snooze, read positions."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from chat.models import Conversation, Message
from chat.payloads import conversation_summary, visitor_conversation_payload
from helpdesk.contacts.models import Contact
from helpdesk.realtime.groups import agents_group, broadcast_on_commit, conversation_group
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.services.activity import ticket_unread_adjust
from helpdesk.tickets.services.broadcast import ticket_broadcast_changed
from helpdesk.tickets.services.fields import ticket_assign
from helpdesk.tickets.services.opening import ticket_create
from helpdesk.tickets.services.status import ticket_status_change, tickets_on_hold_wake_due
from tenants.agents.models import User
from tenants.connection import connection


def conversation_broadcast_changed(conversation: Conversation, *, tell_visitor: bool) -> None:
    """After commit: every agent socket gets the new summary; the visitor what concerns them."""
    schema = connection.schema_name
    broadcast_on_commit(
        group=agents_group(schema),
        event={"type": "chat.conversation", "conversation": conversation_summary(conversation)},
    )
    if tell_visitor:
        broadcast_on_commit(
            group=conversation_group(schema, conversation.pk),
            event={
                "type": "chat.conversation",
                "conversation": visitor_conversation_payload(conversation),
            },
        )


def _locked(conversation: Conversation) -> Conversation:
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("contact", "assignee")
        .get(pk=conversation.pk)
    )


def conversation_new(
    *, contact: Contact, ticket: Ticket, channel: str, started_context: dict | None = None
) -> Conversation:
    """The unsaved conversation `conversation_open` stores (the batched chat path stores many
    at once)."""
    return Conversation(
        contact=contact, channel=channel, ticket=ticket, started_context=started_context or {}
    )


def conversation_open(
    *,
    contact: Contact,
    channel: str = Conversation.Channel.WEB,
    subject: str = "",
    started_context: dict | None = None,
    follow_up_of: Ticket | None = None,
    on_ticket: Ticket | None = None,
    announce: bool = True,
) -> Conversation:
    """A new conversation and the ticket it opens (every new chat or email thread is a ticket),
    or, with `on_ticket`, a new thread of an existing ticket.

    Runs inside the caller's transaction; agents hear of it after commit, unless `announce` is
    false because the caller's own broadcast will carry it.
    """
    with transaction.atomic():
        ticket = on_ticket or ticket_create(
            requester=contact, channel=channel, subject=subject, follow_up_of=follow_up_of
        )
        conversation = conversation_new(
            contact=contact, ticket=ticket, channel=channel, started_context=started_context
        )
        conversation.save(force_insert=True)
        conversation.contact = contact
        if on_ticket is None:
            ticket.requester = contact
        if announce:
            conversation_broadcast_changed(conversation, tell_visitor=False)
            ticket_broadcast_changed(ticket)
    return conversation


def conversation_assign(
    *, conversation: Conversation, assignee_id: int | None, actor: User
) -> Conversation:
    """Give the conversation's ticket, and so the conversation, to an agent or to nobody."""
    ticket_assign(ticket=_ticket_of(conversation), assignee_id=assignee_id, actor=actor)
    return _fresh(conversation)


# The conversation API speaks the chat statuses; the ticket underneath takes the matching one.
_TICKET_STATUS = {
    Conversation.Status.OPEN: Ticket.Status.OPEN,
    Conversation.Status.PENDING: Ticket.Status.PENDING,
    Conversation.Status.SNOOZED: Ticket.Status.ON_HOLD,
    Conversation.Status.RESOLVED: Ticket.Status.SOLVED,
}


def conversation_status_change(
    *,
    conversation: Conversation,
    status: str,
    actor: User,
    snoozed_until: datetime | None = None,
) -> Conversation:
    """Resolve, reopen, mark pending or snooze (until a time in the future), via its ticket."""
    if status not in Conversation.Status.values:
        raise ValidationError(
            "Status must be open, pending, snoozed or resolved.", code="invalid_status"
        )
    if status == Conversation.Status.SNOOZED:
        if snoozed_until is None:
            raise ValidationError("Say until when to snooze.", code="snooze_until_required")
    else:
        snoozed_until = None
    ticket_status_change(
        ticket=_ticket_of(conversation),
        status=_TICKET_STATUS[Conversation.Status(status)],
        actor=actor,
        snoozed_until=snoozed_until,
    )
    return _fresh(conversation)


def _ticket_of(conversation: Conversation) -> Ticket:
    if conversation.ticket_id is None:
        raise ValidationError("This conversation has no ticket.", code="no_ticket")
    return Ticket(pk=conversation.ticket_id)


def _fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_related("contact", "assignee").get(pk=conversation.pk)


def conversation_read_by_agent(*, conversation: Conversation, seq: int) -> Conversation:
    """Agents have seen up to `seq`: the unread count drops, the visitor sees a read receipt."""
    with transaction.atomic():
        locked = _locked(conversation)
        new = min(max(int(seq), locked.agent_last_read_seq), locked.last_seq)
        if new == locked.agent_last_read_seq:
            return locked
        before = locked.agent_unread_count
        locked.agent_last_read_seq = new
        locked.agent_unread_count = Message.objects.filter(
            conversation=locked,
            seq__gt=new,
            sender_kind=Message.SenderKind.CUSTOMER,
        ).count()
        locked.save(update_fields=["agent_last_read_seq", "agent_unread_count"])
        conversation_broadcast_changed(locked, tell_visitor=True)
        if locked.ticket_id is not None and before != locked.agent_unread_count:
            ticket_unread_adjust(
                ticket_id=locked.ticket_id, delta=locked.agent_unread_count - before
            )
    return locked


def conversation_read_by_visitor(*, conversation: Conversation, seq: int) -> Conversation:
    """The visitor has seen up to `seq`; agents see it as a read receipt."""
    with transaction.atomic():
        locked = _locked(conversation)
        new = min(max(int(seq), locked.visitor_last_read_seq), locked.last_seq)
        if new == locked.visitor_last_read_seq:
            return locked
        locked.visitor_last_read_seq = new
        locked.save(update_fields=["visitor_last_read_seq"])
        conversation_broadcast_changed(locked, tell_visitor=False)
    return locked


def conversations_snoozed_wake_due() -> int:
    """Reopen the conversations whose snooze has run out (their tickets come off hold)."""
    return tickets_on_hold_wake_due()
