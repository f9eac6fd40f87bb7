"""Channel-layer group names, scoped to one tenant, and broadcasting after commit.

Redis pub/sub has one namespace for every workspace, so a group name always starts with the
schema name: two workspaces can both have an "agents" group (or a conversation 42) and never hear
each other. Cache keys need no helper: settings.CACHES uses django_tenants.cache.make_key, which
prefixes the schema of the connection, so cache calls from a consumer go through `tenant_db`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from contextvars import ContextVar

from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


def tenant_group(schema_name: str, name: str) -> str:
    """The group `name` of one workspace, e.g. "acme.agents"."""
    # Schema names never contain a dot, so "<schema>." can't be forged by a crafted name.
    if not _SCHEMA_RE.match(schema_name or ""):
        raise ValueError(f"Not a schema name: {schema_name!r}")
    return f"{schema_name}.{name}"


def agents_group(schema_name: str) -> str:
    """Every connected agent socket of the workspace."""
    return tenant_group(schema_name, "agents")


def agent_group(schema_name: str, agent_id: int) -> str:
    """Every open socket of one agent (several tabs, several devices)."""
    return tenant_group(schema_name, f"agent.{int(agent_id)}")


# Set by `tenant_db` while a consumer's database call runs: committed broadcasts are collected
# here and sent by the consumer's event loop once the call returns, instead of blocking Channels'
# single database thread on Redis round trips.
deferred_broadcasts: ContextVar[list[tuple[str, dict]] | None] = ContextVar(
    "deferred_broadcasts", default=None
)


def broadcast_on_commit(*, group: str, event: dict) -> None:
    """Send `event` to `group` once the current transaction commits (at once in autocommit).

    For services only. A failed broadcast is logged and does not undo the committed write:
    clients catch up from the database when they reconnect. Under a consumer the send happens
    right after the database call returns (still after the commit), see `deferred_broadcasts`.
    """

    def _send() -> None:
        pending = deferred_broadcasts.get()
        if pending is not None:
            pending.append((group, event))
            return
        group_send_from_sync(group, event)

    transaction.on_commit(_send, robust=True)


_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()
SEND_TIMEOUT_SECONDS = 10


def _broadcast_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _loop_lock:
        # Per process: a forked worker inherits the variable but not the thread running it.
        if _loop is None or _loop_pid != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="broadcasts", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def group_send_from_sync(group: str, event: dict) -> None:
    """Send from synchronous code (a request, a task, the mail receiver's threads).

    async_to_sync would run each send in a new event loop, and the pub/sub channel layer keeps
    its Redis connections per loop, so every broadcast opened (and set up) a new connection; one
    long-lived loop per process keeps them.
    """
    future = asyncio.run_coroutine_threadsafe(
        get_channel_layer().group_send(group, event), _broadcast_loop()
    )
    future.result(timeout=SEND_TIMEOUT_SECONDS)


def conversation_group(schema_name: str, conversation_id: int) -> str:
    """The visitor sockets of one conversation (the widget on each of the shopper's tabs)."""
    return tenant_group(schema_name, f"conversation.{int(conversation_id)}")


def visitors_group(schema_name: str) -> str:
    """Every visitor socket of the workspace; only hears whether an agent is online."""
    return tenant_group(schema_name, "visitors")
