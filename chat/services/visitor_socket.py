"""What a widget socket's frames do. One call per frame, run in the tenant's schema by the
consumer (chat/consumers.py), so each frame costs one trip to the database thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from chat.allowed_domains import store_host_allowed, url_host
from chat.models import Conversation, Message
from chat.payloads import message_payload, visitor_conversation_payload
from chat.rate_limits import (
    RateDecision,
    RateLimited,
    visitor_connection_allowed,
    visitor_ip_message_allowed,
    visitor_message_allowed,
    visitor_own_message_allowed,
    visitor_reconnect_allowed,
)
from chat.selectors.conversations import ConversationNotFound, visitor_conversation_access
from chat.selectors.messages import REPLAY_MAX, message_list_after, message_list_before
from chat.selectors.widget import widget_settings_get
from chat.services.conversations import conversation_read_by_visitor
from chat.services.messages import message_create, message_input_check
from chat.services.visitors import (
    PageContext,
    visitor_authenticate,
    visitor_conversation_start,
    visitor_email_leave,
)
from helpdesk.contacts.models import Contact
from routing.presence import agents_online_count

LATEST_PAGE = 50


class StoreNotAllowed(Exception):
    """The page embedding the widget is not one of the workspace's allowed store domains."""


class VisitorGone(Exception):
    """The visitor's contact no longer exists (deleted or merged away)."""


@dataclass
class VisitorState:
    """What the consumer remembers between frames: ids only, never model instances."""

    contact_id: int | None = None
    conversation_id: int | None = None
    context: PageContext = field(default_factory=PageContext)


def _payloads(messages: list[Message], contact: Contact) -> list[dict[str, Any]]:
    name = contact.display_name
    return [message_payload(m, contact_name=name, for_agent=False) for m in messages]


def visitor_socket_admit(*, ip: str) -> RateDecision:
    return visitor_connection_allowed(ip=ip)


@dataclass(frozen=True)
class AuthResult:
    state: VisitorState
    ready: dict[str, Any]
    messages: dict[str, Any] | None
    identity_error: str


def visitor_socket_auth(
    *, token: Any, identity: Any, last_seq: Any, context: PageContext, own_hosts: frozenset[str]
) -> AuthResult:
    settings = widget_settings_get()
    # Browsers already refuse to show the frame elsewhere (CSP frame-ancestors); this catches
    # a frame that was loaded some other way and reports the page it claims to be on.
    if not store_host_allowed(
        host=url_host(context.url), allowed=settings.allowed_domains, own_hosts=own_hosts
    ):
        raise StoreNotAllowed
    session = visitor_authenticate(
        token=token, identity=identity, context=context, settings=settings
    )
    contact, conversation = session.contact, session.conversation
    if contact is not None:
        decision = visitor_reconnect_allowed(visitor=f"c{contact.pk}")
        if not decision.allowed:
            raise RateLimited(decision.retry_after)
    state = VisitorState(
        contact_id=contact.pk if contact else None,
        conversation_id=conversation.pk if conversation else None,
        context=context,
    )
    ready = {
        "type": "ready",
        "token": session.token,
        "visitor": (
            {"name": contact.name, "email": contact.email, "verified": contact.identity_verified}
            if contact
            else None
        ),
        "conversation": visitor_conversation_payload(conversation) if conversation else None,
        "online": agents_online_count() > 0,
        "reply_time_minutes": settings.reply_time_minutes,
        "enabled": settings.enabled,
    }
    batch = None
    if conversation is not None and contact is not None:
        seq = last_seq if isinstance(last_seq, int) and not isinstance(last_seq, bool) else 0
        missed: list[Message] | None = None
        if seq > 0:
            missed = message_list_after(
                conversation_id=conversation.pk,
                after_seq=seq,
                limit=REPLAY_MAX + 1,
                include_internal=False,
            )
            if len(missed) > REPLAY_MAX:
                # Too much to replay: start again from the newest page, as on a fresh load.
                missed = None
        if missed is not None:
            batch = {
                "type": "messages",
                "mode": "missed",
                "messages": _payloads(missed, contact),
                "older_available": True,
            }
        else:
            latest, older = message_list_before(
                conversation_id=conversation.pk, limit=LATEST_PAGE, include_internal=False
            )
            batch = {
                "type": "messages",
                "mode": "latest",
                "messages": _payloads(latest, contact),
                "older_available": older,
            }
    return AuthResult(
        state=state, ready=ready, messages=batch, identity_error=session.identity_error
    )


def _contact(state: VisitorState) -> Contact | None:
    if state.contact_id is None:
        return None
    contact = Contact.objects.filter(pk=state.contact_id).first()
    if contact is None:
        raise VisitorGone
    return contact


@dataclass(frozen=True)
class StartResult:
    state: VisitorState
    session: dict[str, Any] | None  # the `session` frame when the conversation is new


def visitor_socket_start(
    *, state: VisitorState, prechat: Any, announce: bool = True
) -> StartResult:
    start = visitor_conversation_start(
        contact=_contact(state), prechat=prechat, context=state.context, announce=announce
    )
    new_state = VisitorState(
        contact_id=start.contact.pk, conversation_id=start.conversation.pk, context=state.context
    )
    frame = None
    if state.conversation_id != start.conversation.pk or state.contact_id != start.contact.pk:
        frame = {
            "type": "session",
            "token": start.token,
            "conversation": visitor_conversation_payload(start.conversation),
        }
    return StartResult(state=new_state, session=frame)


def _own_conversation(state: VisitorState, contact: Contact, named: Any) -> Conversation:
    """The socket's conversation; a frame naming any other is refused."""
    if named is not None and named != state.conversation_id:
        raise ConversationNotFound
    return visitor_conversation_access(contact=contact, conversation_id=state.conversation_id)


@dataclass(frozen=True)
class SendResult:
    state: VisitorState
    session: dict[str, Any] | None
    ack: dict[str, Any]


def visitor_socket_send(
    *,
    state: VisitorState,
    ip: str,
    conversation_id: Any,
    client_message_id: Any,
    body: Any,
    attachments: Any,
) -> SendResult:
    """Store a visitor's message: rate limits first, then the conversation (started if new).

    One transaction: a message that turns out invalid leaves no contact or conversation behind.
    """
    if conversation_id is not None and conversation_id != state.conversation_id:
        raise ConversationNotFound
    with transaction.atomic():
        return _visitor_send(
            state=state,
            ip=ip,
            client_message_id=client_message_id,
            body=body,
            attachments=attachments,
        )


def _visitor_send(
    *, state: VisitorState, ip: str, client_message_id: Any, body: Any, attachments: Any
) -> SendResult:
    session = None
    if state.conversation_id is None:
        # The network's budget is checked before a first message creates anyone.
        decision = visitor_ip_message_allowed(ip=ip)
        if not decision.allowed:
            raise RateLimited(decision.retry_after)
        started = visitor_socket_start(state=state, prechat=None)
        state, session = started.state, started.session
        decision = visitor_own_message_allowed(visitor=f"c{state.contact_id}")
    else:
        decision = visitor_message_allowed(ip=ip, visitor=f"c{state.contact_id}")
    if not decision.allowed:
        raise RateLimited(decision.retry_after)
    assert state.conversation_id is not None and state.contact_id is not None
    ack = visitor_message_store(
        conversation_id=state.conversation_id,
        contact_id=state.contact_id,
        client_message_id=client_message_id,
        body=body,
        attachments=attachments,
    )
    return SendResult(state=state, session=session, ack=ack)


def visitor_message_store(
    *, conversation_id: int, contact_id: int, client_message_id: Any, body: Any, attachments: Any
) -> dict[str, Any]:
    """Store one visitor message in the socket's conversation (rate limits already counted);
    returns the `ack` frame."""
    # The id comes from the server (auth or start), never from the frame, so it is this
    # visitor's; message_create locks the row and fails if it has been deleted meanwhile.
    try:
        write = message_create(
            conversation=Conversation(pk=conversation_id, contact_id=contact_id),
            sender_kind=Message.SenderKind.CUSTOMER,
            body=body,
            client_message_id=client_message_id,
            attachment_ids=attachments if attachments is not None else (),
        )
    except Conversation.DoesNotExist:
        raise VisitorGone from None
    return message_ack(write.message, created=write.created)


def message_ack(
    message: Message, *, created: bool, conversation: Conversation | None = None
) -> dict[str, Any]:
    """The `ack` frame: the message is stored (`created` false for a repeated send). With the
    `conversation` it changed, its status and read positions after it: the sending socket is
    not sent its own `message` frame, which carries them to the visitor's other sockets."""
    ack: dict[str, Any] = {
        "type": "ack",
        "client_message_id": message.client_message_id,
        "seq": message.seq,
        "message_id": message.pk,
        "created": created,
    }
    if conversation is not None:
        ack["conversation"] = visitor_conversation_payload(conversation)
    return ack


@dataclass(frozen=True)
class BatchedSend:
    """A visitor message for the batched path (chat/services/visitor_message_batch.py)."""

    # None for a visitor's first message: the batch starts the conversation (with the
    # contact, if new) from `context`, in the same transaction as the message.
    conversation_id: int | None
    contact_id: int | None
    ip: str
    client_message_id: str | None
    body: str
    context: PageContext | None = None


def visitor_send_check(
    *,
    state: VisitorState,
    ip: str,
    conversation_id: Any,
    client_message_id: Any,
    body: Any,
    attachments: Any,
) -> BatchedSend | None:
    """The send, checked, for the batched path if it can take it: it attaches nothing. None
    sends it through `visitor_socket_send`. Needs no database: it runs on the consumer's event
    loop."""
    if conversation_id is not None and conversation_id != state.conversation_id:
        raise ConversationNotFound
    if attachments is not None and attachments != []:
        return None
    checked = message_input_check(
        sender_kind=Message.SenderKind.CUSTOMER, body=body, client_message_id=client_message_id
    )
    return BatchedSend(
        conversation_id=state.conversation_id,
        contact_id=state.contact_id,
        ip=ip,
        client_message_id=client_message_id,
        body=checked.body,
        context=state.context,
    )


def visitor_socket_first_start(send: BatchedSend) -> StartResult:
    """Start the conversation of a visitor's first message, inside the batch's transaction.

    Agents hear of the new conversation and ticket from the message's broadcast; announcing the
    still-empty conversation first would send every agent socket two more frames per new chat.
    """
    state = VisitorState(contact_id=send.contact_id, context=send.context or PageContext())
    return visitor_socket_start(state=state, prechat=None, announce=False)


def visitor_socket_read(*, state: VisitorState, seq: Any) -> None:
    if state.conversation_id is None:
        return
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise ValidationError("seq must be a number.", code="invalid")
    contact = _contact(state)
    assert contact is not None
    conversation = _own_conversation(state, contact, None)
    conversation_read_by_visitor(conversation=conversation, seq=seq)


def visitor_socket_history(*, state: VisitorState, before_seq: Any) -> dict[str, Any]:
    if isinstance(before_seq, bool) or not isinstance(before_seq, int) or before_seq < 1:
        raise ValidationError("before_seq must be a positive number.", code="invalid")
    contact = _contact(state)
    if contact is None or state.conversation_id is None:
        return {"type": "history", "messages": [], "older_available": False}
    conversation = _own_conversation(state, contact, None)
    page, older = message_list_before(
        conversation_id=conversation.pk,
        before_seq=before_seq,
        limit=LATEST_PAGE,
        include_internal=False,
    )
    return {"type": "history", "messages": _payloads(page, contact), "older_available": older}


def visitor_socket_email(*, state: VisitorState, email: Any) -> StartResult:
    """Leave an email; a visitor who has not written yet gets their contact (and chat) now."""
    if state.contact_id is None:
        started = visitor_socket_start(state=state, prechat={"email": email})
        return started
    contact = _contact(state)
    assert contact is not None
    visitor_email_leave(contact=contact, email=email)
    return StartResult(state=state, session=None)
