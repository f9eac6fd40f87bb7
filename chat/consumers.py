"""The widget's socket: one visitor, one conversation, inside one workspace.

Every frame becomes one call to chat.services.visitor_socket, run in the workspace's schema via
`tenant_db`. The consumer keeps only ids between frames. A bad frame gets an error frame and the
socket stays open; nothing is stored for it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ValidationError

from chat.selectors.conversations import ConversationNotFound
from chat.services import visitor_socket as frames
from chat.services.typing import typing_from_visitor
from chat.services.visitor_message_batch import visitor_messages_store_many
from chat.services.visitors import PageContext
from helpdesk.realtime.batching import GroupCommit
from helpdesk.realtime.db import tenant_db
from helpdesk.realtime.dispatch import DirectDispatchMixin
from helpdesk.realtime.fanout import fanout_send
from helpdesk.realtime.groups import conversation_group, visitors_group
from helpdesk.realtime.middleware import CLOSE_FORBIDDEN_ORIGIN

log = logging.getLogger(__name__)

MAX_FRAME_CHARS = 16_384
CLOSE_RATE_LIMITED = 4429
CLOSE_GONE = 4410

RATE_LIMITED_MESSAGE = "You're sending messages too quickly. Please wait {n} seconds."
CONNECTIONS_LIMITED_MESSAGE = (
    "Too many chat connections from your network. Try again in {n} seconds."
)


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return ""


# Visitors' messages, stored many at a time (visitor_message_batch.py). A batch holds what
# queued while the lane wrote the previous one, so it grows with the load; the cap only bounds
# one transaction. A cap of 100 was the ceiling itself: a lane wrote at most 100 messages per
# batch time, ~1,650 msgs/s over two lanes with the CPU a sixth idle (docs/benchmarks.md).
widget_sends = GroupCommit(
    visitor_messages_store_many, max_batch=1000, lanes=settings.REALTIME_WRITE_LANES
)


class WidgetConsumer(DirectDispatchMixin, AsyncWebsocketConsumer):
    """/ws/widget/ (docs/chat-protocol.md). Mounted behind TenantOriginMiddleware: the widget
    frame is served from the workspace's host, so that is the only allowed Origin."""

    async def connect(self):
        self.tenant = self.scope["tenant"]
        if self.tenant.is_public:
            await self.close(code=4404)
            return
        self.schema = self.tenant.schema_name
        self.ip = (self.scope.get("client") or ("unknown",))[0] or "unknown"
        self.state: frames.VisitorState | None = None
        self.joined: list[str] = []
        admitted = await tenant_db(self.tenant, frames.visitor_socket_admit, ip=self.ip)
        await self.accept()
        if not admitted.allowed:
            await self._error(
                "rate_limited",
                CONNECTIONS_LIMITED_MESSAGE.format(n=admitted.retry_after),
                retry_after=admitted.retry_after,
            )
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        await self._join(visitors_group(self.schema))

    async def disconnect(self, code):
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []

    async def _join(self, group: str) -> None:
        if group not in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)

    async def _follow(self, state: frames.VisitorState) -> None:
        """Remember the visitor's state and hear their conversation from now on."""
        self.state = state
        if state.conversation_id is not None:
            await self._join(conversation_group(self.schema, state.conversation_id))

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return await self._error("bad_message", "Send JSON text frames.")
        if len(text_data) > MAX_FRAME_CHARS:
            return await self._error(
                "too_large", f"The message is too large (at most {MAX_FRAME_CHARS:,} bytes)."
            )
        try:
            frame = json.loads(text_data)
        except ValueError:
            return await self._error("bad_json", "The message is not valid JSON.")
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            return await self._error("bad_message", 'A message is an object with a "type".')
        kind = frame["type"]
        handler = self._handlers.get(kind)
        if handler is None:
            return await self._error("unknown_type", "Unknown message type.")
        if kind not in ("auth", "ping") and self.state is None:
            return await self._error("not_authenticated", 'Send "auth" first.')
        try:
            await handler(self, frame)
        except ConversationNotFound:
            await self._error(
                "forbidden", "That conversation is not yours.", frame.get("client_message_id")
            )
        except frames.RateLimited as limited:
            await self._error(
                "rate_limited",
                RATE_LIMITED_MESSAGE.format(n=limited.retry_after),
                frame.get("client_message_id"),
                retry_after=limited.retry_after,
            )
        except ValidationError as exc:
            await self._error(
                getattr(exc, "code", None) or "invalid",
                exc.messages[0],
                frame.get("client_message_id"),
            )
        except frames.VisitorGone:
            await self._error("not_authenticated", "Your chat session has ended.")
            self.state = frames.VisitorState()

    async def _on_ping(self, frame: dict) -> None:
        await self._send({"type": "pong"})

    async def _on_auth(self, frame: dict) -> None:
        if self.state is not None:
            return await self._error("bad_message", "Already authenticated.")
        try:
            await self._authenticate(frame)
        except frames.StoreNotAllowed:
            await self._error("origin_not_allowed", "Chat is not available on this website.")
            await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
        except frames.RateLimited as limited:
            # Raised before the state is kept, so `receive` would not close; do it here.
            await self._error(
                "rate_limited",
                CONNECTIONS_LIMITED_MESSAGE.format(n=limited.retry_after),
                retry_after=limited.retry_after,
            )
            await self.close(code=CLOSE_RATE_LIMITED)

    async def _authenticate(self, frame: dict) -> None:
        context = PageContext.parse(
            page=frame.get("page"),
            timezone_name=frame.get("timezone"),
            language=frame.get("language"),
            user_agent=_header(self.scope, b"user-agent"),
        )
        result = await tenant_db(
            self.tenant,
            frames.visitor_socket_auth,
            token=frame.get("token"),
            identity=frame.get("identity"),
            last_seq=frame.get("last_seq"),
            context=context,
            own_hosts=self.scope.get("tenant_hosts", frozenset()),
        )
        await self._follow(result.state)
        await self._send(result.ready)
        if result.identity_error:
            await self._error("identity_rejected", result.identity_error)
        if result.messages is not None:
            await self._send(result.messages)

    async def _on_start(self, frame: dict) -> None:
        assert self.state is not None
        result = await tenant_db(
            self.tenant, frames.visitor_socket_start, state=self.state, prechat=frame.get("prechat")
        )
        await self._follow(result.state)
        if result.session is not None:
            await self._send(result.session)

    async def _on_send(self, frame: dict) -> None:
        assert self.state is not None
        batched = frames.visitor_send_check(
            state=self.state,
            ip=self.ip,
            conversation_id=frame.get("conversation_id"),
            client_message_id=frame.get("client_message_id"),
            body=frame.get("body"),
            attachments=frame.get("attachments"),
        )
        if batched is not None:
            return await self._send_batched(batched)
        result = await tenant_db(
            self.tenant,
            frames.visitor_socket_send,
            state=self.state,
            ip=self.ip,
            conversation_id=frame.get("conversation_id"),
            client_message_id=frame.get("client_message_id"),
            body=frame.get("body"),
            attachments=frame.get("attachments"),
        )
        await self._follow(result.state)
        if result.session is not None:
            await self._send(result.session)
        await self._send(result.ack)

    async def _send_batched(self, batched: frames.BatchedSend) -> None:
        """A message without attachments: stored with whatever other sockets send meanwhile
        (a first message starts its conversation in the same transaction)."""
        assert self.state is not None
        outcome = await widget_sends.submit(self.tenant, batched)
        if outcome.state is not None:
            # The socket joins the new conversation's group once this message is announced:
            # the visitor has it from the ack.
            self.state = outcome.state
            if outcome.session is not None:
                await self._send(outcome.session)
        try:
            if outcome.error is not None:
                raise outcome.error
            for group, event in outcome.events:
                # For the visitor's other tabs and devices: this socket has the ack.
                fanout_send(
                    group, {**event, "origin": self.channel_name}, unless_only=self.channel_name
                )
        finally:
            await self._follow(self.state)
        assert outcome.ack is not None
        await self._send(outcome.ack)

    async def _on_typing(self, frame: dict) -> None:
        assert self.state is not None
        if self.state.conversation_id is None:
            return
        await typing_from_visitor(
            schema_name=self.schema,
            conversation_id=self.state.conversation_id,
            is_typing=bool(frame.get("is_typing")),
        )

    async def _on_read(self, frame: dict) -> None:
        assert self.state is not None
        await tenant_db(
            self.tenant, frames.visitor_socket_read, state=self.state, seq=frame.get("seq")
        )

    async def _on_history(self, frame: dict) -> None:
        assert self.state is not None
        page = await tenant_db(
            self.tenant,
            frames.visitor_socket_history,
            state=self.state,
            before_seq=frame.get("before_seq"),
        )
        await self._send(page)

    async def _on_email(self, frame: dict) -> None:
        assert self.state is not None
        result = await tenant_db(
            self.tenant, frames.visitor_socket_email, state=self.state, email=frame.get("email")
        )
        await self._follow(result.state)
        if result.session is not None:
            await self._send(result.session)
        await self._send({"type": "email.saved"})

    _handlers = {
        "ping": _on_ping,
        "auth": _on_auth,
        "start": _on_start,
        "message.send": _on_send,
        "typing": _on_typing,
        "read": _on_read,
        "history": _on_history,
        "email": _on_email,
    }

    # Channel-layer events (sent by services after commit).
    async def chat_message(self, event):
        if event.get("origin") == self.channel_name:
            return  # this socket sent it and has had the ack
        await self.send(text_data=event["frame"])  # encoded once by message_events

    async def chat_conversation(self, event):
        await self._send({"type": "conversation", "conversation": event["conversation"]})

    async def chat_typing(self, event):
        await self._send({"type": "typing", "is_typing": event["is_typing"], "agent": event["who"]})

    async def chat_presence(self, event):
        await self._send({"type": "presence", "online": event["online"]})

    async def _error(
        self, code: str, message: str, client_message_id: Any = None, **extra: Any
    ) -> None:
        payload: dict[str, Any] = {"type": "error", "code": code, "message": message, **extra}
        if isinstance(client_message_id, str):
            payload["client_message_id"] = client_message_id
        await self._send(payload)

    async def _send(self, payload: dict) -> None:
        await self.send(text_data=json.dumps(payload, default=str))
