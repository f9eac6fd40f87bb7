"""Channel-layer sends of many consumers in one Redis round trip.

A batch of visitor messages (helpdesk/realtime/batching.py) wakes up to a hundred sockets at
once, each announcing its message to its conversation's group. One `group_send` each meant a
hundred Redis round trips, one after the other (channels-redis holds a lock per publish), and was
the largest cost of a message on the socket path (docs/benchmarks.md). `fanout_send` queues the
send instead; whatever is queued during one turn of the event loop goes out as one Redis script
call per shard, which publishes exactly what the layer's `group_send` would have.

A send can be made for the others only (`unless_only`): a visitor's message is echoed to their
other tabs and devices, and most visitors have just the one socket that sent it. Such a send is
published only if someone else listens: another socket of the group in this process, or another
subscriber of the group's Redis channel (`PUBSUB NUMSUB`, checked by the same script, so nothing
can subscribe between the check and the publish). Publishing it anyway would cost this process
the round trip out and the delivery back, only to drop it.

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

# KEYS: the group channels; ARGV: per channel, how many subscribers it needs (0: publish
# anyway), then the message. Returns how many were published.
_PUBLISH_SCRIPT = """
local published = 0
for i, channel in ipairs(KEYS) do
  local needed = tonumber(ARGV[2 * i - 1])
  if needed == 0 or redis.call('PUBSUB', 'NUMSUB', channel)[2] >= needed then
    redis.call('PUBLISH', channel, ARGV[2 * i])
    published = published + 1
  end
end
return published
"""


async def group_send_many(
    sends: list[Send], *, unless_only: list[str | None] | None = None
) -> None:
    """`group_send` each (group, event), with one round trip per Redis shard when the layer is
    channels-redis's pub/sub layer (the configured one); one by one with any other layer.

    `unless_only[i]`, a channel name: skip send i if that channel is its group's only listener.
    """
    if not sends:
        return
    layer = get_channel_layer()
    loop_layer = _pubsub_loop_layer(layer)
    if loop_layer is None:
        for group, event in sends:
            await layer.group_send(group, event)
        return
    by_shard: dict[Any, list[tuple[str, str | None, bytes]]] = defaultdict(list)
    for index, (group, event) in enumerate(sends):
        channel = loop_layer._get_group_channel_name(group)
        sender = unless_only[index] if unless_only else None
        by_shard[loop_layer._get_shard(channel)].append((channel, sender, layer.serialize(event)))
    for shard, messages in by_shard.items():
        # The shard's lock is the one its own publish and subscribe take: commands never
        # interleave, and what it has subscribed to is what Redis counts.
        async with shard._lock:
            shard._ensure_redis()
            channels, args = [], []
            for channel, sender, data in messages:
                channels.append(channel)
                args += [_needed(loop_layer, shard, channel, sender), data]
            # redis-py's script object runs it by its hash and loads it when Redis lacks it.
            await shard._redis.register_script(_PUBLISH_SCRIPT)(keys=channels, args=args)


def _needed(loop_layer: Any, shard: Any, channel: str, sender: str | None) -> int:
    """How many subscribers the group's Redis channel needs for the send to go out: 0, always;
    otherwise one more than this process's own subscription, which only the sender uses."""
    if sender is None:
        return 0
    here = loop_layer.groups.get(channel) or set()
    if here - {sender}:
        return 0  # another socket of this process listens
    return 2 if channel in shard._subscribed_to else 1


def _pubsub_loop_layer(layer: Any) -> Any:
    """The running loop's RedisPubSubLoopLayer behind `layer`, or None for another layer.

    Relies on channels-redis 4's pub/sub internals (pinned in pyproject.toml); anything missing
    falls back to the public `group_send`.
    """
    get = getattr(type(layer), "_get_layer", None)
    if get is None:
        return None
    loop_layer = layer._get_layer()
    needed = ("_get_group_channel_name", "_get_shard", "groups")
    if not all(hasattr(loop_layer, name) for name in needed):
        return None
    return loop_layer


# What each event loop has queued since its last flush: (group, event, unless_only).
_pending: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, list[tuple[str, dict[str, Any], str | None]]
] = weakref.WeakKeyDictionary()
_tasks: set[asyncio.Task[None]] = set()


def fanout_send(group: str, event: dict[str, Any], *, unless_only: str | None = None) -> None:
    """Queue `group_send(group, event)`; it goes out with every other send queued before the
    event loop's next turn. With `unless_only` (a consumer's channel name), it goes out only if
    someone other than that consumer listens to the group. Call from the event loop."""
    loop = asyncio.get_running_loop()
    queued = _pending.setdefault(loop, [])
    if not queued:
        loop.call_soon(_flush, loop)
    queued.append((group, event, unless_only))


def _flush(loop: asyncio.AbstractEventLoop) -> None:
    queued = _pending.pop(loop, [])
    task = loop.create_task(_send_logged(queued))
    _tasks.add(task)  # the loop keeps only weak references to tasks
    task.add_done_callback(_tasks.discard)


async def _send_logged(queued: list[tuple[str, dict[str, Any], str | None]]) -> None:
    try:
        await group_send_many(
            [(group, event) for group, event, _ in queued],
            unless_only=[sender for _, _, sender in queued],
        )
    except Exception:
        log.exception("Broadcast of %d events failed", len(queued))
