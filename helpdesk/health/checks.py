"""Reachability of what the platform needs: PostgreSQL, Redis and at least one Celery worker.

The answer is public (load balancers call it on any host without credentials), so a failed check
says only what kind of failure it was; the exception itself goes to the log. URLs are read from
settings at call time, never cached at import.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)

# Seconds each network check may take. The probe runs inside the web process, so it must answer
# well within a load balancer's own health-check timeout even when everything is down.
TIMEOUT = 1.0


class CheckFailed(Exception):
    """A failure whose message is safe to show publicly."""


def _timed(name: str, check: Callable[[], None]) -> dict:
    started = time.perf_counter()
    try:
        check()
        result: dict = {"ok": True}
    except CheckFailed as exc:
        log.warning("Health check %s failed: %s", name, exc.__cause__ or exc)
        result = {"ok": False, "detail": str(exc)}
    except Exception:
        log.warning("Health check %s failed", name, exc_info=True)
        result = {"ok": False, "detail": "unreachable"}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _database() -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()


def redis_urls() -> list[str]:
    """Every Redis the platform talks to: the Celery broker, the cache and the channel layer."""
    urls = [settings.CELERY_BROKER_URL]
    for cache in settings.CACHES.values():
        if "redis" in cache.get("BACKEND", "").lower():
            location = cache.get("LOCATION") or []
            urls += [location] if isinstance(location, str) else list(location)
    for layer in settings.CHANNEL_LAYERS.values():
        for host in layer.get("CONFIG", {}).get("hosts", []):
            address = host.get("address") if isinstance(host, dict) else host
            if isinstance(address, str):
                urls.append(address)
    return list(
        dict.fromkeys(u for u in urls if u.startswith(("redis://", "rediss://", "unix://")))
    )


def _redis() -> None:
    import redis

    for url in redis_urls():
        client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        try:
            client.ping()
        except redis.exceptions.TimeoutError as exc:
            raise CheckFailed("timed out") from exc
        except redis.exceptions.AuthenticationError as exc:
            raise CheckFailed("authentication failed") from exc
        except redis.exceptions.ConnectionError as exc:
            raise CheckFailed("connection refused") from exc
        finally:
            client.close()


def _worker() -> None:
    from helpdesk.celery import app

    with app.connection_for_write(settings.CELERY_BROKER_URL, connect_timeout=TIMEOUT) as conn:
        try:
            # No retries: the Celery default would keep a probe waiting for seconds.
            conn.ensure_connection(max_retries=0)
        except Exception as exc:
            raise CheckFailed("broker unreachable") from exc
        # One reply is enough; without a limit the ping always waits the full timeout.
        replies = app.control.ping(timeout=TIMEOUT, connection=conn, limit=1)
    if not replies:
        raise CheckFailed("no worker answered")


def health_report() -> dict:
    checks = {
        "database": _timed("database", _database),
        "redis": _timed("redis", _redis),
        "worker": _timed("worker", _worker),
    }
    status = "ok" if all(c["ok"] for c in checks.values()) else "unavailable"
    return {"status": status, "checks": checks}
