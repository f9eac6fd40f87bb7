"""An agent's reply in any conversation: stored, and for email sent as a mail."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from chat.email.outbound import email_queue_send, email_reply_draft
from chat.models import Conversation, Message
from chat.services.messages import MessageWrite, message_create
from tenants.agents.models import User


def conversation_reply(
    *,
    conversation: Conversation,
    actor: User,
    body: str,
    is_internal: bool = False,
    client_message_id: str | None = None,
    attachment_ids: Sequence[object] = (),
) -> MessageWrite:
    """The inbox composer, the agent socket and the API all answer through here.

    In an email conversation a public reply gets its mail side (threading headers, queued)
    and is sent by the worker once stored; a retried send stores and sends once.
    """
    if conversation.channel != Conversation.Channel.EMAIL or is_internal:
        return message_create(
            conversation=conversation,
            sender_kind=Message.SenderKind.AGENT,
            sender_agent=actor,
            body=body,
            is_internal=is_internal,
            client_message_id=client_message_id,
            attachment_ids=attachment_ids,
        )
    with transaction.atomic():
        draft = email_reply_draft(conversation=conversation)
        write = message_create(
            conversation=conversation,
            sender_kind=Message.SenderKind.AGENT,
            sender_agent=actor,
            body=body,
            client_message_id=client_message_id,
            attachment_ids=attachment_ids,
            email=draft,
        )
        if write.created:
            email_queue_send(draft)
    return write
