"""Reads on messages: replay after a reconnect, and older pages when scrolling up."""

from __future__ import annotations

from django.db.models import QuerySet

from chat.models import Message

MESSAGES_PAGE_MAX = 200
REPLAY_MAX = 500  # a reconnecting client missing more starts again from the newest page


def _messages(*, conversation_id: int, include_internal: bool) -> QuerySet[Message]:
    qs = Message.objects.filter(conversation_id=conversation_id).select_related(
        "sender_agent", "email"
    )
    if not include_internal:
        qs = qs.filter(is_internal=False)
    return qs.prefetch_related("attachments")


def message_list_after(
    *, conversation_id: int, after_seq: int = 0, limit: int = 100, include_internal: bool = True
) -> list[Message]:
    """Messages newer than after_seq, oldest first: what a reconnecting client missed."""
    limit = max(1, min(limit, REPLAY_MAX + 1))
    qs = _messages(conversation_id=conversation_id, include_internal=include_internal)
    return list(qs.filter(seq__gt=max(0, after_seq)).order_by("seq")[:limit])


def message_list_before(
    *,
    conversation_id: int,
    before_seq: int | None = None,
    limit: int = 50,
    include_internal: bool = True,
) -> tuple[list[Message], bool]:
    """The `limit` messages before before_seq (or the newest), oldest first, and whether older
    ones exist."""
    limit = max(1, min(limit, MESSAGES_PAGE_MAX))
    qs = _messages(conversation_id=conversation_id, include_internal=include_internal)
    if before_seq is not None:
        qs = qs.filter(seq__lt=before_seq)
    page = list(qs.order_by("-seq")[: limit + 1])
    older_available = len(page) > limit
    page = page[:limit]
    page.reverse()
    return page, older_available
