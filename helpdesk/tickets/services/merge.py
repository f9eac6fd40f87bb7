"""Merging two tickets about the same case into one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, Message
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.services.broadcast import ticket_broadcast_changed
from tenants.agents.models import User


def ticket_merge(*, source: Ticket, target: Ticket, actor: User | None) -> Ticket:
    """Move every conversation of `source` into `target`; `source` is closed, pointing there.

    Both histories say so: the moved conversations carry a note naming both numbers, and the
    merged ticket shows where it went.
    """
    from chat.services.conversations import conversation_broadcast_changed
    from chat.services.messages import message_create

    if source.pk == target.pk:
        raise ValidationError("A ticket can't be merged into itself.", code="same_ticket")
    with transaction.atomic():
        ids = sorted([source.pk, target.pk])
        conversations = list(
            Conversation.objects.select_for_update(of=("self",))
            .select_related("contact", "assignee")
            .filter(ticket_id__in=ids)
            .order_by("pk")
        )
        tickets = {
            t.pk: t
            for t in Ticket.objects.select_for_update(of=("self",))
            .select_related("requester", "assignee")
            .filter(pk__in=ids)
            .order_by("pk")
        }
        src, dst = tickets[source.pk], tickets[target.pk]
        for ticket in (src, dst):
            if ticket.merged_into_id is not None:
                raise ValidationError(
                    f"Ticket #{ticket.number} was already merged into another ticket.",
                    code="ticket_merged",
                )
        if dst.status == Ticket.Status.CLOSED:
            raise ValidationError(
                f"Ticket #{dst.number} is closed; merge into an open ticket.", code="target_closed"
            )
        moved = [c for c in conversations if c.ticket_id == src.pk]
        Conversation.objects.filter(pk__in=[c.pk for c in moved]).update(ticket=dst)
        now = timezone.now()
        dst.channels = sorted(set(dst.channels) | set(src.channels))
        dst.unread_count += src.unread_count
        dst.tags = list(dict.fromkeys([*dst.tags, *src.tags]))[:20]
        if src.last_activity_at > dst.last_activity_at:
            dst.last_activity_at = src.last_activity_at
            dst.last_message_preview = src.last_message_preview
            dst.last_message_sender_kind = src.last_message_sender_kind
        dst.save(
            update_fields=[
                "channels",
                "unread_count",
                "tags",
                "last_activity_at",
                "last_message_preview",
                "last_message_sender_kind",
            ]
        )
        src.merged_into = dst
        src.status = Ticket.Status.CLOSED
        src.closed_at = now
        src.unread_count = 0
        src.save(update_fields=["merged_into", "status", "closed_at", "unread_count"])
        who = f" by {actor.name}" if actor is not None else ""
        note = f"Ticket #{src.number} was merged into #{dst.number}{who}."
        for conversation in moved or conversations[:1]:
            message_create(
                conversation=conversation,
                sender_kind=Message.SenderKind.SYSTEM,
                body=note,
                is_internal=True,
            )
        for conversation in moved:
            conversation.ticket = dst
            conversation_broadcast_changed(conversation, tell_visitor=False)
        ticket_broadcast_changed(src)
        merged = Ticket.objects.select_related("requester", "assignee").get(pk=dst.pk)
        ticket_broadcast_changed(merged)
    return merged
