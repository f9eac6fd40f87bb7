"""Consumer dispatch without Channels' per-event database hop.

Channels (4.2+) awaits `aclose_old_connections()` before every handler: a trip to its single
database thread for each frame and each channel-layer event, which makes every event of the
process queue behind whatever database work that thread has (measured in docs/benchmarks.md:
agents heard messages seconds late while the thread was busy). Our consumers never touch the ORM
outside `tenant_db` / `public_db`, which close stale connections themselves around each call, so
the hop protects nothing here.
"""

from __future__ import annotations

from channels.consumer import get_handler_name


class DirectDispatchMixin:
    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
