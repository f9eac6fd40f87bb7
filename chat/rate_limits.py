"""Fixed-window rate limits for widget sockets, counted in Redis per workspace.

A fixed window is cheap (one INCR) and good enough to stop a flood; the limits are generous for
people and configured per installation (WIDGET_RATE_* in .env.example).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings

from tenants.connection import connection


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int = 0


class RateLimited(Exception):
    """Refused for now; the caller tells the visitor to wait `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RateRule:
    name: str
    ident: str
    limit: tuple[int, int]  # (events, seconds)


_redis_client: redis.Redis | None = None
_redis_lock = threading.Lock()


def _redis() -> redis.Redis:
    """One client (and connection pool) per process. Django's cache objects live per async
    context, so counting through `cache` opened a new Redis connection for most messages."""
    global _redis_client
    with _redis_lock:
        if _redis_client is None:
            _redis_client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
        return _redis_client


def rate_hits(rules: list[RateRule]) -> RateDecision:
    """Count one event under every rule in one Redis round trip; refused if any window is full."""
    return rate_hits_many([rules])[0]


# Each key: start its window with its expiry if it has none (SET NX EX), then count (INCR).
# One script call for every key of a batch: redis-py packs each pipelined command in Python,
# which cost more than Redis itself for a batch of widget messages.
_COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'EX', ARGV[i], 'NX')
  counts[i] = redis.call('INCR', key)
end
return counts
"""
_count_script: Any = None


def rate_hits_many(
    events: list[list[RateRule]], *, schemas: list[str] | None = None
) -> list[RateDecision]:
    """Count several events, each under its own rules, in one Redis round trip.

    Keys carry the cache's key prefix and the workspace's schema, like every cache entry: the
    current one's, or each event's own from `schemas` (a batch of several workspaces).
    Events are counted in order, so of two events sharing a rule the later one sees the earlier
    one's count.
    """
    global _count_script
    now = time.time()
    key_prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    if schemas is None:
        schemas = [connection.schema_name] * len(events)
    keys, ttls = [], []
    for rules, schema in zip(events, schemas, strict=True):
        prefix = f"{key_prefix}:{schema}"
        for rule in rules:
            keys.append(f"{prefix}:rate.{rule.name}.{rule.ident}.{int(now // rule.limit[1])}")
            ttls.append(rule.limit[1] + 1)
    if not keys:
        return [RateDecision(allowed=True) for _ in events]
    if _count_script is None:
        _count_script = _redis().register_script(_COUNT_SCRIPT)
    counts = iter(_count_script(keys=keys, args=ttls))
    decisions = []
    for rules in events:
        decision = RateDecision(allowed=True)
        for rule in rules:
            used = int(next(counts))
            count, seconds = rule.limit
            if used > count and decision.allowed:
                window_end = (int(now // seconds) + 1) * seconds
                decision = RateDecision(allowed=False, retry_after=max(1, int(window_end - now)))
        decisions.append(decision)
    return decisions


def visitor_message_rules(*, ip: str | None, visitor: str | None) -> list[RateRule]:
    """Both the visitor's and the network's budget must allow a message (`ip` None: the
    network's was counted already; `visitor` None: a new visitor, who has none yet)."""
    rules = []
    if visitor is not None:
        rules.append(RateRule("msg.visitor", visitor, settings.WIDGET_RATE_MESSAGES_PER_VISITOR))
    if ip is not None:
        rules.append(RateRule("msg.ip", ip, settings.WIDGET_RATE_MESSAGES_PER_IP))
    return rules


def rate_hit(*, name: str, ident: str, limit: tuple[int, int]) -> RateDecision:
    """Count one event for `ident`; refuse when the window already holds `limit[0]` events."""
    return rate_hits([RateRule(name=name, ident=ident, limit=limit)])


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
    return rate_hits(visitor_message_rules(ip=ip, visitor=visitor))
