"""Storing messages and telling the sockets, after commit."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chat.models import Attachment, Conversation, EmailMessage, Message
from chat.payloads import conversation_summary, message_payload, visitor_conversation_payload
from helpdesk.realtime.groups import agents_group, broadcast_on_commit, conversation_group
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.payloads import ticket_summary
from helpdesk.tickets.services.activity import ticket_locked_for_message, ticket_message_apply
from tenants.agents.models import User
from tenants.connection import connection

MESSAGE_MAX_CHARS = 10_000
ATTACHMENTS_PER_MESSAGE_MAX = 10
CLIENT_MESSAGE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PREVIEW_CHARS = 200


@dataclass(frozen=True)
class MessageWrite:
    message: Message
    created: bool  # False when a retried send matched a stored message


def _attachment_ids(values: Sequence[object]) -> list[uuid.UUID]:
    if not isinstance(values, (list, tuple)):
        raise ValidationError("Attachments must be a list of ids.", code="invalid_attachments")
    if len(values) > ATTACHMENTS_PER_MESSAGE_MAX:
        raise ValidationError(
            f"At most {ATTACHMENTS_PER_MESSAGE_MAX} attachments per message.",
            code="too_many_attachments",
        )
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            raise ValidationError("Unknown attachment.", code="unknown_attachment") from None
    return ids


def _preview(message: Message, attachments: list[Attachment]) -> str:
    text = " ".join(message.body.split())
    if not text and attachments:
        text = "📎 " + ", ".join(a.name for a in attachments)
    return text[:PREVIEW_CHARS]


@dataclass(frozen=True)
class MessageInput:
    """A message's fields as a client sent them, checked (message_input_check)."""

    body: str
    attachment_ids: list[uuid.UUID]


# Django builds an enum's `values` anew on every read: ~2 % of a web process at chat load.
_SENDER_KINDS = frozenset(Message.SenderKind.values)


def message_input_check(
    *,
    sender_kind: str,
    body: object,
    client_message_id: object = None,
    is_internal: bool = False,
    attachment_ids: Sequence[object] = (),
    body_max: int = MESSAGE_MAX_CHARS,
) -> MessageInput:
    """Refuse what no conversation could store; needs no database."""
    if sender_kind not in _SENDER_KINDS:
        raise ValidationError("Unknown sender.", code="invalid_sender")
    if not isinstance(body, str):
        raise ValidationError("The message must be text.", code="invalid_body")
    body = body.strip()
    wanted_attachments = _attachment_ids(attachment_ids)
    if not body and not wanted_attachments:
        raise ValidationError("A message cannot be empty.", code="empty")
    if len(body) > body_max:
        raise ValidationError(f"A message can be at most {body_max:,} characters.", code="too_long")
    if client_message_id is not None and (
        not isinstance(client_message_id, str) or not CLIENT_MESSAGE_ID_RE.match(client_message_id)
    ):
        raise ValidationError("Invalid client message id.", code="invalid_client_message_id")
    if is_internal and sender_kind not in (Message.SenderKind.AGENT, Message.SenderKind.SYSTEM):
        raise ValidationError("Only agents write internal notes.", code="internal_not_agent")
    return MessageInput(body=body, attachment_ids=wanted_attachments)


@dataclass
class MessageRecord:
    """A message placed in its locked conversation and ticket, not saved yet."""

    message: Message
    conversation_fields: list[str]
    ticket_fields: list[str]


def message_record(
    locked: Conversation,
    ticket: Ticket,
    *,
    sender_kind: str,
    body: str,
    client_message_id: str | None,
    sender_agent: User | None = None,
    is_internal: bool = False,
    attachments: list[Attachment] | None = None,
) -> MessageRecord:
    """Give a message the conversation's next sequence number and apply it to the (locked)
    conversation and ticket instances: activity, preview, unread counts, status.

    The caller saves the three, inside the transaction holding the locks.
    """
    attachments = attachments or []
    now = timezone.now()
    locked.last_seq += 1
    locked.last_activity_at = now
    fields = ["last_seq", "last_activity_at"]
    message = Message(
        conversation=locked,
        seq=locked.last_seq,
        client_message_id=client_message_id,
        sender_kind=sender_kind,
        sender_agent=sender_agent,
        body=body,
        is_internal=is_internal,
        created_at=now,
    )
    preview = _preview(message, attachments)
    if not is_internal:
        locked.last_message_preview = preview
        locked.last_message_sender_kind = sender_kind
        fields += ["last_message_preview", "last_message_sender_kind"]
    unread_delta = 0
    if sender_kind == Message.SenderKind.CUSTOMER:
        locked.agent_unread_count += 1
        unread_delta = 1
        fields.append("agent_unread_count")
    elif sender_kind == Message.SenderKind.AGENT and not is_internal:
        # The agent has seen what they answer; their reply also means the visitor's
        # messages before it are read by the team.
        unread_delta = -locked.agent_unread_count
        locked.agent_last_read_seq = locked.last_seq
        locked.agent_unread_count = 0
        fields += ["agent_last_read_seq", "agent_unread_count"]
    ticket_fields, status_fields = ticket_message_apply(
        ticket, locked, message=message, preview=preview, unread_delta=unread_delta
    )
    return MessageRecord(
        message=message, conversation_fields=fields + status_fields, ticket_fields=ticket_fields
    )


def message_create(
    *,
    conversation: Conversation,
    sender_kind: str,
    body: str,
    client_message_id: str | None = None,
    sender_agent: User | None = None,
    is_internal: bool = False,
    attachment_ids: Sequence[object] = (),
    email: EmailMessage | None = None,
    body_max: int = MESSAGE_MAX_CHARS,
) -> MessageWrite:
    """Store a message with the conversation's next sequence number, then broadcast it.

    A send repeated with the same client_message_id returns the message stored the first time
    and changes nothing, so a client may retry after a dropped connection without doubling it.
    Attachments must have been uploaded to this conversation by the same kind of sender and not
    be part of another message. Visitors hear public messages, agents hear everything; both only
    once the transaction has committed. `email` is the unsaved mail side of the message (an
    inbound mail, an outbound reply), stored with it.
    """
    checked = message_input_check(
        sender_kind=sender_kind,
        body=body,
        client_message_id=client_message_id,
        is_internal=is_internal,
        attachment_ids=attachment_ids,
        body_max=body_max,
    )
    wanted_attachments = checked.attachment_ids

    # The only refusal raised inside the block is a bad attachment; without attachments no
    # savepoint is needed when nested (the widget's send), which saves two round trips.
    with transaction.atomic(savepoint=bool(wanted_attachments)):
        # The row lock serialises writers of one conversation: sequence numbers stay gap-free
        # and a concurrent retry sees the first attempt's message.
        locked = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("contact", "assignee")
            .get(pk=conversation.pk)
        )
        if client_message_id is not None:
            existing = Message.objects.filter(
                conversation=locked, client_message_id=client_message_id
            ).first()
            if existing is not None:
                return MessageWrite(message=existing, created=False)
        attachments: list[Attachment] = []
        if wanted_attachments:
            attachments = list(
                Attachment.objects.select_for_update().filter(
                    pk__in=wanted_attachments,
                    conversation=locked,
                    message__isnull=True,
                    uploaded_by_kind=sender_kind,
                )
            )
            if len(attachments) != len(set(wanted_attachments)):
                raise ValidationError("Unknown attachment.", code="unknown_attachment")

        ticket = ticket_locked_for_message(locked, sender_kind=sender_kind)
        record = message_record(
            locked,
            ticket,
            sender_kind=sender_kind,
            body=checked.body,
            client_message_id=client_message_id,
            sender_agent=sender_agent,
            is_internal=is_internal,
            attachments=attachments,
        )
        message = record.message
        message.save(force_insert=True)
        if email is not None:
            email.message = message
            email.save()
        # The payload reads message.email; setting it spares a query for chat messages.
        Message.email.related.set_cached_value(message, email)
        if attachments:
            Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(message=message)
        ticket.save(update_fields=record.ticket_fields)
        locked.save(update_fields=record.conversation_fields)
        for group, event in message_events(locked, ticket, message, attachments):
            broadcast_on_commit(group=group, event=event)

    conversation.last_seq = locked.last_seq
    conversation.last_activity_at = locked.last_activity_at
    conversation.status = locked.status
    conversation.ticket_id = locked.ticket_id
    return MessageWrite(message=message, created=True)


def message_events(
    conversation: Conversation, ticket: Ticket, message: Message, attachments: list[Attachment]
) -> list[tuple[str, dict[str, Any]]]:
    """The (group, event) pairs that announce a stored message: to the conversation's visitor
    sockets unless it is an internal note, and to every agent socket of the workspace.

    Each event carries its socket frame as JSON text, encoded once here rather than by every
    socket that hears it (a workspace's agents all get the same frame).
    """
    schema = connection.schema_name
    contact_name = conversation.contact.display_name
    events: list[tuple[str, dict[str, Any]]] = []
    if not message.is_internal:
        visitor_frame = {
            "type": "message",
            "message": message_payload(
                message, contact_name=contact_name, for_agent=False, attachments=attachments
            ),
            # Status and read positions after this message (an agent's reply marks the
            # visitor's messages read).
            "conversation": visitor_conversation_payload(conversation),
        }
        events.append(
            (
                conversation_group(schema, conversation.pk),
                {"type": "chat.message", "frame": json.dumps(visitor_frame, default=str)},
            )
        )
    agent_frame = {
        "type": "message",
        "conversation_id": conversation.pk,
        "message": message_payload(
            message, contact_name=contact_name, for_agent=True, attachments=attachments
        ),
        "conversation": conversation_summary(conversation),
        "ticket": ticket_summary(ticket),
    }
    agent_event = {"type": "chat.message", "frame": json.dumps(agent_frame, default=str)}
    events.append((agents_group(schema), agent_event))
    return events
