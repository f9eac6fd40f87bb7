"""Ticket status (DOMAIN.md): new → open → pending / on-hold → solved → closed.

Conversations follow their ticket, so the widget and the conversation API keep telling the
customer-facing state: new/open → open, pending/on-hold → pending (snoozed when on hold until a
time), solved/closed → resolved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chat.models import Conversation
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.services.broadcast import ticket_broadcast_changed
from helpdesk.tickets.services.locking import ticket_lock
from tenants.agents.models import User

S = Ticket.Status
ON_HOLD_MAX = timedelta(days=90)

# Where an agent may move a ticket from each status. Nothing returns to new; closed is final
# (a customer writing again opens a follow-up ticket); closing comes after solving.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING, S.ON_HOLD, S.SOLVED}),
    S.OPEN: frozenset({S.PENDING, S.ON_HOLD, S.SOLVED}),
    S.PENDING: frozenset({S.OPEN, S.ON_HOLD, S.SOLVED}),
    S.ON_HOLD: frozenset({S.OPEN, S.PENDING, S.SOLVED}),
    S.SOLVED: frozenset({S.OPEN, S.PENDING, S.ON_HOLD, S.CLOSED}),
    S.CLOSED: frozenset(),
}


def conversation_status_for(ticket_status: str, *, snoozed: bool) -> str:
    if ticket_status in (S.NEW, S.OPEN):
        return Conversation.Status.OPEN
    if ticket_status == S.ON_HOLD and snoozed:
        return Conversation.Status.SNOOZED
    if ticket_status in (S.PENDING, S.ON_HOLD):
        return Conversation.Status.PENDING
    return Conversation.Status.RESOLVED


def ticket_status_apply(
    ticket: Ticket,
    conversations: list[Conversation],
    *,
    status: str,
    snoozed_until: datetime | None = None,
) -> list[Conversation]:
    """Set the status on locked rows (no checks); return the conversations that changed.

    The caller saves nothing else and broadcasts; used by agent actions and by messages that
    reopen a ticket.
    """
    now = timezone.now()
    fields = ["status"]
    ticket.status = status
    if status == S.SOLVED:
        ticket.solved_at = now
        fields.append("solved_at")
    elif status == S.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
    ticket.save(update_fields=fields)
    changed = []
    for conversation in conversations:
        wanted = conversation_status_for(status, snoozed=snoozed_until is not None)
        until = snoozed_until if wanted == Conversation.Status.SNOOZED else None
        if conversation.status != wanted or conversation.snoozed_until != until:
            conversation.status = wanted
            conversation.snoozed_until = until
            conversation.save(update_fields=["status", "snoozed_until"])
            changed.append(conversation)
    return changed


def _snooze_check(snoozed_until: datetime | None) -> None:
    if snoozed_until is None:
        return
    if timezone.is_naive(snoozed_until):
        raise ValidationError("Give the time with its time zone.", code="naive_time")
    now = timezone.now()
    if not now < snoozed_until <= now + ON_HOLD_MAX:
        raise ValidationError(
            "Hold until a time in the future, at most 90 days ahead.", code="snooze_range"
        )


def ticket_status_change(
    *,
    ticket: Ticket,
    status: str,
    actor: User | None,
    snoozed_until: datetime | None = None,
) -> Ticket:
    """Move the ticket (and its conversations) to a status an agent may choose from here.

    `snoozed_until` only goes with on-hold: the ticket reopens by itself at that time.
    """
    from chat.services.conversations import conversation_broadcast_changed

    if status not in S.values:
        raise ValidationError(
            "Status must be one of: " + ", ".join(S.values) + ".", code="invalid_status"
        )
    if snoozed_until is not None and status != S.ON_HOLD:
        raise ValidationError("Only an on-hold ticket waits until a time.", code="snooze_status")
    _snooze_check(snoozed_until)
    with transaction.atomic():
        locked, conversations = ticket_lock(ticket.pk)
        if locked.merged_into_id is not None:
            raise ValidationError(
                "This ticket was merged into another one; change that ticket instead.",
                code="ticket_merged",
            )
        same = locked.status == status
        if not same and status not in TRANSITIONS[locked.status]:
            raise ValidationError(
                f"A {locked.get_status_display().lower()} ticket can't become "
                f"{S(status).label.lower()}.",
                code="invalid_transition",
            )
        snooze_same = (
            all(c.snoozed_until == snoozed_until for c in conversations) or not conversations
        )
        if same and snooze_same:
            return locked
        for conversation in ticket_status_apply(
            locked, conversations, status=status, snoozed_until=snoozed_until
        ):
            conversation_broadcast_changed(conversation, tell_visitor=True)
        ticket_broadcast_changed(locked)
    return locked


def tickets_on_hold_wake_due() -> int:
    """Reopen tickets whose on-hold time has run out. Beat runs this every minute.

    A snoozed conversation whose ticket was meanwhile reopened some other way (the customer
    wrote in another of its conversations) is only brought back in step, so it never lingers
    in the due list.
    """
    from chat.services.conversations import conversation_broadcast_changed

    now = timezone.now()
    due = (
        Conversation.objects.filter(
            status=Conversation.Status.SNOOZED, snoozed_until__lte=now, ticket__isnull=False
        )
        .values_list("ticket_id", flat=True)
        .distinct()
    )
    woken = 0
    for ticket_id in list(due[:500]):
        ticket = Ticket.objects.filter(pk=ticket_id).first()
        if ticket is None:
            continue
        if ticket.status == S.ON_HOLD:
            try:
                ticket_status_change(ticket=ticket, status=S.OPEN, actor=None)
            except ValidationError:
                continue
            woken += 1
            continue
        with transaction.atomic():
            locked, conversations = ticket_lock(ticket_id)
            for conversation in conversations:
                if conversation.status == Conversation.Status.SNOOZED:
                    conversation.status = conversation_status_for(locked.status, snoozed=False)
                    conversation.snoozed_until = None
                    conversation.save(update_fields=["status", "snoozed_until"])
                    conversation_broadcast_changed(conversation, tell_visitor=True)
    return woken
