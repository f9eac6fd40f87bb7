"""Agent actions on conversations: assign, resolve / reopen / snooze, read positions."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, Message
from chat.payloads import conversation_summary, visitor_conversation_payload
from helpdesk.realtime.groups import agents_group, broadcast_on_commit, conversation_group
from tenants.agents.models import User
from tenants.connection import connection

SNOOZE_MAX = timedelta(days=90)


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


def conversation_assign(
    *, conversation: Conversation, assignee_id: int | None, actor: User
) -> Conversation:
    """Give the conversation to an active agent of the workspace, or to nobody (None)."""
    assignee = None
    if assignee_id is not None:
        assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
        if assignee is None:
            raise ValidationError("No such active agent.", code="unknown_agent")
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.assignee_id != (assignee.pk if assignee else None):
            locked.assignee = assignee
            locked.save(update_fields=["assignee"])
            conversation_broadcast_changed(locked, tell_visitor=False)
    return locked


def conversation_status_change(
    *,
    conversation: Conversation,
    status: str,
    actor: User,
    snoozed_until: datetime | None = None,
) -> Conversation:
    """Resolve, reopen, mark pending or snooze (until a time in the future)."""
    if status not in Conversation.Status.values:
        raise ValidationError(
            "Status must be open, pending, snoozed or resolved.", code="invalid_status"
        )
    now = timezone.now()
    if status == Conversation.Status.SNOOZED:
        if snoozed_until is None:
            raise ValidationError("Say until when to snooze.", code="snooze_until_required")
        if timezone.is_naive(snoozed_until):
            raise ValidationError("Give the snooze time with its time zone.", code="naive_time")
        if not now < snoozed_until <= now + SNOOZE_MAX:
            raise ValidationError(
                "Snooze until a time in the future, at most 90 days ahead.", code="snooze_range"
            )
    else:
        snoozed_until = None
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.status != status or locked.snoozed_until != snoozed_until:
            locked.status = status
            locked.snoozed_until = snoozed_until
            locked.save(update_fields=["status", "snoozed_until"])
            conversation_broadcast_changed(locked, tell_visitor=True)
    return locked


def conversation_read_by_agent(*, conversation: Conversation, seq: int) -> Conversation:
    """Agents have seen up to `seq`: the unread count drops, the visitor sees a read receipt."""
    with transaction.atomic():
        locked = _locked(conversation)
        new = min(max(int(seq), locked.agent_last_read_seq), locked.last_seq)
        if new == locked.agent_last_read_seq:
            return locked
        locked.agent_last_read_seq = new
        locked.agent_unread_count = Message.objects.filter(
            conversation=locked,
            seq__gt=new,
            sender_kind=Message.SenderKind.CUSTOMER,
        ).count()
        locked.save(update_fields=["agent_last_read_seq", "agent_unread_count"])
        conversation_broadcast_changed(locked, tell_visitor=True)
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
    """Reopen the conversations whose snooze has run out. Beat runs this every minute."""
    woken = 0
    now = timezone.now()
    due = Conversation.objects.filter(
        status=Conversation.Status.SNOOZED, snoozed_until__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due[:500]):
        with transaction.atomic():
            locked = (
                Conversation.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("contact", "assignee")
                .filter(pk=pk, status=Conversation.Status.SNOOZED, snoozed_until__lte=now)
                .first()
            )
            if locked is None:
                continue
            locked.status = Conversation.Status.OPEN
            locked.snoozed_until = None
            locked.save(update_fields=["status", "snoozed_until"])
            conversation_broadcast_changed(locked, tell_visitor=True)
            woken += 1
    return woken
