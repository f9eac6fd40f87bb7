"""Reads the ticket API needs besides helpdesk.tickets.selectors: the merged and follow-up
tickets pointing at a ticket, the timeline of all its conversations, and the conversation a
reply goes to."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from chat.models import Conversation, Message
from chat.selectors.messages import MESSAGES_PAGE_MAX
from helpdesk.tickets.models import Ticket


def ticket_related_refs(*, ticket: Ticket) -> dict[str, list[dict[str, Any]]]:
    """Tickets merged into this one and follow-ups opened after it was closed, oldest first,
    as {id, number, status}: one query for both."""
    rows = (
        Ticket.objects.filter(Q(merged_into=ticket) | Q(follow_up_of=ticket))
        .order_by("number")
        .values_list("id", "number", "status", "merged_into_id")
    )
    refs: dict[str, list[dict[str, Any]]] = {"follow_ups": [], "merged_tickets": []}
    for pk, number, status, merged_into_id in rows:
        kind = "merged_tickets" if merged_into_id == ticket.pk else "follow_ups"
        refs[kind].append({"id": pk, "number": number, "status": status})
    return refs


def ticket_messages_before(
    *, ticket: Ticket, before_id: int | None = None, limit: int = 50
) -> tuple[list[Message], bool]:
    """The `limit` messages of all the ticket's conversations before message `before_id` (or
    the newest), oldest first by (created_at, id), and whether older ones exist. Internal notes
    included: agents only.

    Everything a message payload shows is loaded here (author, mail side, attachments, the
    conversation's contact and channel), so a page costs the same queries however long it is.
    """
    limit = max(1, min(limit, MESSAGES_PAGE_MAX))
    qs = (
        Message.objects.filter(conversation__ticket=ticket)
        .select_related("sender_agent", "email", "conversation__contact")
        .prefetch_related("attachments")
    )
    if before_id is not None:
        anchor = (
            Message.objects.filter(pk=before_id, conversation__ticket=ticket)
            .values_list("created_at", flat=True)
            .first()
        )
        if anchor is None:
            raise ValidationError(
                {"before": ValidationError("Not a message of this ticket.", code="unknown_message")}
            )
        qs = qs.filter(
            Q(created_at__lte=anchor)
            & (Q(created_at__lt=anchor) | Q(created_at=anchor, pk__lt=before_id))
        )
    page = list(qs.order_by("-created_at", "-pk")[: limit + 1])
    older_available = len(page) > limit
    page = page[:limit]
    page.reverse()
    return page, older_available


def ticket_conversation_for_reply(
    *, ticket: Ticket, conversation_id: int | None = None
) -> Conversation:
    """The ticket's conversation `conversation_id`, or by default the one most recently active
    (where the customer is likely to be reading)."""
    qs = Conversation.objects.filter(ticket=ticket).select_related("contact", "assignee")
    if conversation_id is not None:
        found = qs.filter(pk=conversation_id).first()
        if found is None:
            raise ValidationError(
                {
                    "conversation_id": ValidationError(
                        "Not a conversation of this ticket.", code="unknown_conversation"
                    )
                }
            )
        return found
    latest = qs.order_by("-last_activity_at", "-pk").first()
    if latest is None:
        # Only a merged ticket has none left: its conversations went to the other ticket.
        raise ValidationError(
            "This ticket has no conversation to write in; it was merged into another ticket.",
            code="no_conversation",
        )
    return latest
