"""The JSON shapes of conversations and messages on sockets (docs/chat-protocol.md).

One place, so the widget, the inbox socket and the API never disagree on a field.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.urls import reverse

from chat.email.payloads import email_payload
from chat.models import Attachment, Conversation, Message
from helpdesk.contacts.models import Contact


def iso_utc(value: datetime | None) -> str | None:
    """The payloads' time format: UTC with a Z, whatever time zone is active."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def attachment_payload(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": str(attachment.id),
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": reverse("chat_attachment_download", args=[attachment.id]),
    }


def _author(message: Message, contact_name: str) -> dict[str, Any] | None:
    if message.sender_kind == Message.SenderKind.CUSTOMER:
        return {"name": contact_name}
    agent = message.sender_agent
    if agent is not None:
        return {"name": agent.name, "avatar_url": agent.avatar.url if agent.avatar else None}
    return None


def message_payload(
    message: Message,
    *,
    contact_name: str,
    for_agent: bool,
    attachments: Iterable[Attachment] | None = None,
) -> dict[str, Any]:
    if attachments is None:
        attachments = message.attachments.all()
    payload = {
        "id": message.pk,
        "seq": message.seq,
        "client_message_id": message.client_message_id,
        "sender_kind": message.sender_kind,
        "author": _author(message, contact_name),
        "body": message.body,
        "created_at": iso_utc(message.created_at),
        "attachments": [attachment_payload(a) for a in attachments],
    }
    if for_agent:
        payload["is_internal"] = message.is_internal
        payload["conversation_id"] = message.conversation_id
        # Loaded with select_related("email") by the selectors; absent for chat messages.
        email = getattr(message, "email", None)
        payload["email"] = email_payload(email) if email is not None else None
    return payload


def contact_brief(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "name": contact.display_name,
        "email": contact.email,
        "verified": contact.identity_verified,
    }


def conversation_summary(conversation: Conversation) -> dict[str, Any]:
    """What the inbox list shows of a conversation (agents only)."""
    assignee = conversation.assignee
    return {
        "id": conversation.pk,
        "ticket_id": conversation.ticket_id,
        "status": conversation.status,
        "snoozed_until": iso_utc(conversation.snoozed_until),
        "channel": conversation.channel,
        "assignee": {"id": assignee.pk, "name": assignee.name} if assignee else None,
        "contact": contact_brief(conversation.contact),
        "last_seq": conversation.last_seq,
        "last_message_preview": conversation.last_message_preview,
        "last_message_sender_kind": conversation.last_message_sender_kind,
        "last_activity_at": iso_utc(conversation.last_activity_at),
        "agent_unread_count": conversation.agent_unread_count,
        "agent_last_read_seq": conversation.agent_last_read_seq,
        "visitor_last_read_seq": conversation.visitor_last_read_seq,
        "created_at": iso_utc(conversation.created_at),
    }


def conversation_brief(conversation: Conversation) -> dict[str, Any]:
    """One line of a contact's conversation history (customer panel, contact detail)."""
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "channel": conversation.channel,
        "last_message_preview": conversation.last_message_preview,
        "last_activity_at": iso_utc(conversation.last_activity_at),
        "created_at": iso_utc(conversation.created_at),
    }


def visitor_conversation_payload(conversation: Conversation) -> dict[str, Any]:
    """What the widget knows of its conversation: no assignee, no internal counters."""
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "agent_last_read_seq": conversation.agent_last_read_seq,
        "visitor_last_read_seq": conversation.visitor_last_read_seq,
    }
