"""The agent app's socket: one per browser tab, scoped to one workspace and one agent."""

from __future__ import annotations

import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import ValidationError

from helpdesk.realtime.db import tenant_db
from helpdesk.realtime.groups import agent_group, agents_group
from helpdesk.realtime.middleware import CLOSE_UNAUTHENTICATED
from helpdesk.realtime.selectors import agent_hello
from helpdesk.realtime.services import agent_status_change
from tenants.agents.models import User

# Client frames are small commands; anything bigger is a mistake or abuse.
MAX_FRAME_CHARS = 16_384


class AgentConsumer(AsyncWebsocketConsumer):
    """/ws/agent/: needs an active agent of the workspace (AgentSessionMiddleware).

    Client → server: {"type": "ping"}, {"type": "status", "status": "online|away|offline"}.
    Server → client: hello on connect, pong, agent.status broadcasts, error frames. A bad frame
    gets an error frame and the socket stays open. `agent_sockets_close` (deactivation) closes
    every socket of the agent with 4401.
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
        await self._send(
            {
                "type": "hello",
                "agent": agent,
                "workspace": {"name": self.tenant.name, "slug": self.tenant.slug},
            }
        )

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

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
            return await self._send({"type": "pong"})
        if kind == "status":
            return await self._status(message.get("status"))
        return await self._error("unknown_type", "Unknown message type.")

    async def _status(self, status) -> None:
        if not isinstance(status, str):
            await self._error("invalid_status", "Status must be online, away or offline.")
            return
        try:
            await tenant_db(self.tenant, agent_status_change, agent_id=self.agent_id, status=status)
        except ValidationError:
            await self._error("invalid_status", "Status must be online, away or offline.")
        except User.DoesNotExist:
            # Deactivated since the socket opened.
            await self.close(code=CLOSE_UNAUTHENTICATED)

    # Channel-layer events sent to the group by services.
    async def agent_status(self, event):
        await self._send({"type": "agent.status", "agent": event["agent"]})

    async def agent_sockets_close(self, event):
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _error(self, code: str, message: str) -> None:
        await self._send({"type": "error", "code": code, "message": message})

    async def _send(self, payload: dict) -> None:
        await self.send(text_data=json.dumps(payload, default=str))
