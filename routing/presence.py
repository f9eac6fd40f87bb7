"""Which agents are online: the status they chose, and a socket that is really open.

Each agent has a short-lived cache key (tenant-prefixed by the cache's key function) counting
their open sockets, across daphne processes. Sockets refresh it when they ping, so a crashed
browser's count simply expires. "Online" for the widget means at least one agent with status
online and a live key.
"""

from __future__ import annotations

from django.core.cache import cache

from tenants.agents.models import User

PRESENCE_TTL_SECONDS = 75  # agent sockets ping every 25 s


def _key(agent_id: int) -> str:
    return f"presence.agent.{int(agent_id)}"


def agent_presence_join(*, agent_id: int) -> None:
    key = _key(agent_id)
    cache.add(key, 0, timeout=PRESENCE_TTL_SECONDS)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=PRESENCE_TTL_SECONDS)
    cache.touch(key, PRESENCE_TTL_SECONDS)


def agent_presence_touch(*, agent_id: int) -> None:
    if not cache.touch(_key(agent_id), PRESENCE_TTL_SECONDS):
        cache.set(_key(agent_id), 1, timeout=PRESENCE_TTL_SECONDS)


def agent_presence_leave(*, agent_id: int) -> None:
    key = _key(agent_id)
    try:
        left = cache.decr(key)
    except ValueError:
        return
    if left <= 0:
        cache.delete(key)


def agents_online_count() -> int:
    ids = list(
        User.objects.filter(is_active=True, status=User.Status.ONLINE).values_list("pk", flat=True)
    )
    if not ids:
        return 0
    counts = cache.get_many([_key(pk) for pk in ids])
    return sum(1 for value in counts.values() if value and int(value) > 0)


async def presence_broadcast(*, schema_name: str, online: bool) -> None:
    """Tell every widget of the workspace whether someone is there to answer.

    Presence is not stored in the database, so there is no commit to wait for.
    """
    from channels.layers import get_channel_layer

    from helpdesk.realtime.groups import visitors_group

    await get_channel_layer().group_send(
        visitors_group(schema_name), {"type": "chat.presence", "online": online}
    )


def agent_socket_opened(*, agent_id: int) -> bool:
    """An agent socket opened; whether anyone is online now."""
    agent_presence_join(agent_id=agent_id)
    return agents_online_count() > 0


def agent_socket_pinged(*, agent_id: int) -> None:
    agent_presence_touch(agent_id=agent_id)


def agent_socket_closed(*, agent_id: int) -> bool:
    """An agent socket closed; the agent stays present while another tab of theirs is open."""
    agent_presence_leave(agent_id=agent_id)
    return agents_online_count() > 0


def agents_online_now() -> bool:
    return agents_online_count() > 0
