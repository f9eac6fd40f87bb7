"""Reads on conversations and messages."""

from __future__ import annotations

from django.db.models import QuerySet

from chat.models import Conversation, Message

MESSAGES_PAGE_MAX = 200


def message_list_after(
    *, conversation: Conversation, after_seq: int = 0, limit: int = 100
) -> QuerySet[Message]:
    """Messages newer than after_seq, oldest first: what a reconnecting client missed."""
    limit = max(1, min(limit, MESSAGES_PAGE_MAX))
    return Message.objects.filter(conversation=conversation, seq__gt=after_seq).order_by("seq")[
        :limit
    ]
