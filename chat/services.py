"""Writes on conversations and messages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, Message
from tenants.agents.models import User

MESSAGE_MAX_CHARS = 10_000
CLIENT_MESSAGE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class MessageWrite:
    message: Message
    created: bool  # False when a retried send matched a stored message


def message_create(
    *,
    conversation: Conversation,
    sender_kind: str,
    body: str,
    client_message_id: str | None = None,
    sender_agent: User | None = None,
    is_internal: bool = False,
) -> MessageWrite:
    """Store a message with the conversation's next sequence number.

    A send repeated with the same client_message_id returns the message stored the first time
    and changes nothing, so a client may retry after a dropped connection without doubling it.
    """
    if sender_kind not in Message.SenderKind.values:
        raise ValidationError("Unknown sender.", code="invalid_sender")
    body = (body or "").strip()
    if not body:
        raise ValidationError("A message cannot be empty.", code="empty")
    if len(body) > MESSAGE_MAX_CHARS:
        raise ValidationError(
            f"A message can be at most {MESSAGE_MAX_CHARS:,} characters.", code="too_long"
        )
    if client_message_id is not None and not CLIENT_MESSAGE_ID_RE.match(client_message_id):
        raise ValidationError("Invalid client message id.", code="invalid_client_message_id")
    if is_internal and sender_kind != Message.SenderKind.AGENT:
        raise ValidationError("Only agents write internal notes.", code="internal_not_agent")

    with transaction.atomic():
        # The row lock serialises writers of one conversation: sequence numbers stay gap-free
        # and a concurrent retry sees the first attempt's message.
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if client_message_id is not None:
            existing = Message.objects.filter(
                conversation=locked, client_message_id=client_message_id
            ).first()
            if existing is not None:
                return MessageWrite(message=existing, created=False)
        now = timezone.now()
        locked.last_seq += 1
        locked.last_activity_at = now
        locked.save(update_fields=["last_seq", "last_activity_at"])
        message = Message.objects.create(
            conversation=locked,
            seq=locked.last_seq,
            client_message_id=client_message_id,
            sender_kind=sender_kind,
            sender_agent=sender_agent,
            body=body,
            is_internal=is_internal,
            created_at=now,
        )
    conversation.last_seq = locked.last_seq
    conversation.last_activity_at = locked.last_activity_at
    return MessageWrite(message=message, created=True)
