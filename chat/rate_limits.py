"""Fixed-window rate limits for widget sockets, counted in the (tenant-prefixed) Redis cache.

A fixed window is cheap (one INCR) and good enough to stop a flood; the limits are generous for
people and configured per installation (WIDGET_RATE_* in .env.example).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int = 0


def rate_hit(*, name: str, ident: str, limit: tuple[int, int]) -> RateDecision:
    """Count one event for `ident`; refuse when the window already holds `limit[0]` events."""
    count, seconds = limit
    now = time.time()
    window = int(now // seconds)
    key = f"rate.{name}.{ident}.{window}"
    # add() sets the expiry once; incr() keeps it.
    cache.add(key, 0, timeout=seconds + 1)
    try:
        used = cache.incr(key)
    except ValueError:
        # Expired between add and incr: this is the first event of the window.
        cache.set(key, 1, timeout=seconds + 1)
        used = 1
    if used > count:
        return RateDecision(allowed=False, retry_after=max(1, int((window + 1) * seconds - now)))
    return RateDecision(allowed=True)


def visitor_connection_allowed(*, ip: str) -> RateDecision:
    return rate_hit(name="ws.ip", ident=ip, limit=settings.WIDGET_RATE_CONNECTIONS_PER_IP)


def visitor_reconnect_allowed(*, visitor: str) -> RateDecision:
    """A known visitor's sockets, wherever they come from (same budget as one network's)."""
    return rate_hit(name="ws.visitor", ident=visitor, limit=settings.WIDGET_RATE_CONNECTIONS_PER_IP)


def visitor_own_message_allowed(*, visitor: str) -> RateDecision:
    return rate_hit(
        name="msg.visitor", ident=visitor, limit=settings.WIDGET_RATE_MESSAGES_PER_VISITOR
    )


def visitor_ip_message_allowed(*, ip: str) -> RateDecision:
    return rate_hit(name="msg.ip", ident=ip, limit=settings.WIDGET_RATE_MESSAGES_PER_IP)


def visitor_message_allowed(*, ip: str, visitor: str) -> RateDecision:
    """Both the visitor's and the network's budget must allow the message."""
    per_visitor = visitor_own_message_allowed(visitor=visitor)
    if not per_visitor.allowed:
        return per_visitor
    return visitor_ip_message_allowed(ip=ip)
