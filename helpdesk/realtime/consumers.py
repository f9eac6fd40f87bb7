"""The agent app's socket: one per browser tab, scoped to one workspace and one agent."""

from __future__ import annotations

import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import ValidationError

from chat.selectors.conversations import ConversationNotFound
from chat.services.agent_socket import (
    AgentGone,
    agent_socket_read,
    agent_socket_send,
    agent_socket_typing_target,
)
from chat.services.typing import typing_from_agent
from helpdesk.realtime.db import tenant_db
from helpdesk.realtime.dispatch import DirectDispatchMixin
from helpdesk.realtime.groups import agent_group, agents_group
from helpdesk.realtime.middleware import CLOSE_UNAUTHENTICATED
from helpdesk.realtime.selectors import agent_hello
from helpdesk.realtime.services import agent_status_change
from routing.presence import (
    agent_socket_closed,
    agent_socket_opened,
    agent_socket_pinged,
    agents_online_now,
    presence_broadcast,
)
from tenants.agents.models import User

# Client frames are small commands; anything bigger is a mistake or abuse.
MAX_FRAME_CHARS = 16_384


class AgentConsumer(DirectDispatchMixin, AsyncWebsocketConsumer):
    """/ws/agent/: needs an active agent of the workspace (AgentSessionMiddleware).

    Client → server: {"type": "ping"}, {"type": "status", "status": "online|away|offline"},
    and the chat frames of docs/chat-protocol.md (message.send, typing, read).
    Server → client: hello on connect, pong, agent.status broadcasts, the workspace's chat events
    (message, conversation.updated, typing), ack and error frames. A bad frame gets an error
    frame and the socket stays open. `agent_sockets_close` (deactivation) closes every socket of
    the agent with 4401.
    """

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.tenant = self.scope["tenant"]
        self.agent_id = user.pk
        agent = await tenant_db(self.tenant, agent_hello, agent_id=self.agent_id)
        if agent is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.groups_joined = [
            agents_group(self.tenant.schema_name),
            agent_group(self.tenant.schema_name, self.agent_id),
        ]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.present = True
        online = await tenant_db(self.tenant, agent_socket_opened, agent_id=self.agent_id)
        await self._send(
            {
                "type": "hello",
                "agent": agent,
                "workspace": {"name": self.tenant.name, "slug": self.tenant.slug},
            }
        )
        await presence_broadcast(schema_name=self.tenant.schema_name, online=online)

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "present", False):
            self.present = False
            online = await tenant_db(self.tenant, agent_socket_closed, agent_id=self.agent_id)
            await presence_broadcast(schema_name=self.tenant.schema_name, online=online)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return await self._error("bad_frame", "Send JSON text frames.")
        if len(text_data) > MAX_FRAME_CHARS:
            return await self._error("too_large", "The message is too large.")
        try:
            message = json.loads(text_data)
        except ValueError:
            return await self._error("bad_json", "The message is not valid JSON.")
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return await self._error("bad_message", 'A message is an object with a "type".')
        kind = message["type"]
        if kind == "ping":
            await tenant_db(self.tenant, agent_socket_pinged, agent_id=self.agent_id)
            return await self._send({"type": "pong"})
        if kind == "status":
            return await self._status(message.get("status"))
        handler = self._chat_handlers.get(kind)
        if handler is None:
            return await self._error("unknown_type", "Unknown message type.")
        try:
            await handler(self, message)
        except ConversationNotFound:
            await self._error(
                "not_found",
                "No such conversation.",
                conversation_id=message.get("conversation_id"),
                client_message_id=message.get("client_message_id"),
            )
        except ValidationError as exc:
            await self._error(
                getattr(exc, "code", None) or "invalid",
                exc.messages[0],
                conversation_id=message.get("conversation_id"),
                client_message_id=message.get("client_message_id"),
            )
        except AgentGone:
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _chat_send(self, message: dict) -> None:
        ack = await tenant_db(
            self.tenant,
            agent_socket_send,
            agent_id=self.agent_id,
            conversation_id=message.get("conversation_id"),
            client_message_id=message.get("client_message_id"),
            body=message.get("body"),
            is_internal=message.get("is_internal"),
            attachments=message.get("attachments"),
        )
        await self._send(ack)

    async def _chat_read(self, message: dict) -> None:
        await tenant_db(
            self.tenant,
            agent_socket_read,
            agent_id=self.agent_id,
            conversation_id=message.get("conversation_id"),
            seq=message.get("seq"),
        )

    async def _chat_typing(self, message: dict) -> None:
        target = await tenant_db(
            self.tenant,
            agent_socket_typing_target,
            agent_id=self.agent_id,
            conversation_id=message.get("conversation_id"),
        )
        await typing_from_agent(
            schema_name=self.tenant.schema_name,
            conversation_id=target["conversation_id"],
            agent=target["agent"],
            is_typing=bool(message.get("is_typing")),
        )

    _chat_handlers = {
        "message.send": _chat_send,
        "read": _chat_read,
        "typing": _chat_typing,
    }

    async def _status(self, status) -> None:
        if not isinstance(status, str):
            await self._error("invalid_status", "Status must be online, away or offline.")
            return
        try:
            await tenant_db(self.tenant, agent_status_change, agent_id=self.agent_id, status=status)
        except ValidationError:
            await self._error("invalid_status", "Status must be online, away or offline.")
            return
        except User.DoesNotExist:
            # Deactivated since the socket opened.
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        online = await tenant_db(self.tenant, agents_online_now)
        await presence_broadcast(schema_name=self.tenant.schema_name, online=online)

    # Channel-layer events sent to the group by services.
    async def agent_status(self, event):
        await self._send({"type": "agent.status", "agent": event["agent"]})

    async def agent_sockets_close(self, event):
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def chat_message(self, event):
        await self.send(text_data=event["frame"])  # encoded once by message_events

    async def chat_messages(self, event):
        # Visitors' messages stored together (chat/services/visitor_message_batch.py).
        for frame in event["frames"]:
            await self.send(text_data=frame)

    async def chat_conversation(self, event):
        await self._send({"type": "conversation.updated", "conversation": event["conversation"]})

    async def chat_message_updated(self, event):
        await self._send(
            {
                "type": "message.updated",
                "conversation_id": event["conversation_id"],
                "message": event["message"],
            }
        )

    async def ticket_updated(self, event):
        await self._send({"type": "ticket.updated", "ticket": event["ticket"]})

    async def chat_typing(self, event):
        who = event["who"]
        if isinstance(who, dict) and who.get("id") == self.agent_id:
            return  # an agent's own typing is not news to them
        await self._send(
            {
                "type": "typing",
                "conversation_id": event["conversation_id"],
                "is_typing": event["is_typing"],
                "who": who,
            }
        )

    async def _error(self, code: str, message: str, **extra) -> None:
        payload = {"type": "error", "code": code, "message": message}
        payload.update({key: value for key, value in extra.items() if value is not None})
        await self._send(payload)

    async def _send(self, payload: dict) -> None:
        await self.send(text_data=json.dumps(payload, default=str))
