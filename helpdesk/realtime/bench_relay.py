"""The floor for bench/chat_load.py: a socket that only relays frames through the channel layer.

/ws/bench/relay/?role=visitor|agent&group=<name>. A visitor's text frame is group_sent, as is,
to the agents of its group, who receive it as a text frame. No database, no authentication, no
JSON parsing: what the real chat path costs on top of this is what the benchmark compares.

Mounted only when settings.BENCH_RELAY_ENABLED is true (never in production): anyone who can
reach it can broadcast to anyone listening on the same group name.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.urls import URLPattern, path

from helpdesk.realtime.dispatch import DirectDispatchMixin

# Group names end up in Redis channel names: keep them short and plain.
_GROUP_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CLOSE_BAD_REQUEST = 4400


def relay_group(name: str) -> str:
    return f"bench_relay.{name}"


class BenchRelayConsumer(DirectDispatchMixin, AsyncWebsocketConsumer):
    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        role = (query.get("role") or [""])[0]
        group = (query.get("group") or [""])[0]
        if role not in ("visitor", "agent") or not _GROUP_RE.match(group):
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        self.role = role
        self.group = relay_group(group)
        if role == "agent":
            await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "role", None) == "agent":
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # Agents only listen; binary frames are not part of the bench.
        if self.role == "visitor" and text_data is not None:
            await self.channel_layer.group_send(
                self.group, {"type": "bench.relay", "text": text_data}
            )

    async def bench_relay(self, event):
        await self.send(text_data=event["text"])


def bench_relay_routes() -> list[URLPattern]:
    """The relay's route when BENCH_RELAY_ENABLED is set, else nothing (see routing.py)."""
    if not settings.BENCH_RELAY_ENABLED:
        return []
    return [path("ws/bench/relay/", BenchRelayConsumer.as_asgi())]
