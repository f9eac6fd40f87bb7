"""Channel-layer sends of many consumers in one Redis round trip.

A batch of visitor messages (helpdesk/realtime/batching.py) wakes up to a hundred sockets at
once, each announcing its message to its conversation's group. One `group_send` each meant a
hundred Redis round trips, one after the other (channels-redis holds a lock per publish), and was
the largest cost of a message on the socket path (docs/benchmarks.md). `fanout_send` queues the
send instead; whatever is queued during one turn of the event loop goes out as one pipeline of
PUBLISH commands, which is exactly what the layer's `group_send` would have sent.

Sends are fire-and-forget, like a broadcast after commit: a failure is logged, and clients catch
up from the database when they reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import defaultdict
from typing import Any

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

Send = tuple[str, dict[str, Any]]


async def group_send_many(sends: list[Send]) -> None:
    """`group_send` each (group, event), with one round trip per Redis shard when the layer is
    channels-redis's pub/sub layer (the configured one); one by one with any other layer."""
    if not sends:
        return
    layer = get_channel_layer()
    loop_layer = _pubsub_loop_layer(layer)
    if loop_layer is None:
        for group, event in sends:
            await layer.group_send(group, event)
        return
    by_shard: dict[Any, list[tuple[str, bytes]]] = defaultdict(list)
    for group, event in sends:
        channel = loop_layer._get_group_channel_name(group)
        by_shard[loop_layer._get_shard(channel)].append((channel, layer.serialize(event)))
    for shard, messages in by_shard.items():
        # The shard's lock is the one its own publish takes: commands never interleave.
        async with shard._lock:
            shard._ensure_redis()
            async with shard._redis.pipeline(transaction=False) as pipe:
                for channel, data in messages:
                    pipe.publish(channel, data)
                await pipe.execute()


def _pubsub_loop_layer(layer: Any) -> Any:
    """The running loop's RedisPubSubLoopLayer behind `layer`, or None for another layer.

    Relies on channels-redis 4's pub/sub internals (pinned in pyproject.toml); anything missing
    falls back to the public `group_send`.
    """
    get = getattr(type(layer), "_get_layer", None)
    if get is None:
        return None
    loop_layer = layer._get_layer()
    needed = ("_get_group_channel_name", "_get_shard")
    if not all(hasattr(loop_layer, name) for name in needed):
        return None
    return loop_layer


# What each event loop has queued since its last flush.
_pending: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[Send]] = (
    weakref.WeakKeyDictionary()
)
_tasks: set[asyncio.Task[None]] = set()


def fanout_send(group: str, event: dict[str, Any]) -> None:
    """Queue `group_send(group, event)`; it goes out with every other send queued before the
    event loop's next turn. Call from the event loop."""
    loop = asyncio.get_running_loop()
    queued = _pending.setdefault(loop, [])
    if not queued:
        loop.call_soon(_flush, loop)
    queued.append((group, event))


def _flush(loop: asyncio.AbstractEventLoop) -> None:
    sends = _pending.pop(loop, [])
    task = loop.create_task(_send_logged(sends))
    _tasks.add(task)  # the loop keeps only weak references to tasks
    task.add_done_callback(_tasks.discard)


async def _send_logged(sends: list[Send]) -> None:
    try:
        await group_send_many(sends)
    except Exception:
        log.exception("Broadcast of %d events failed", len(sends))
