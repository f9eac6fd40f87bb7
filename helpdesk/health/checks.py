"""Reachability of what the platform needs: PostgreSQL, Redis and at least one Celery worker."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:
        detail, ok = f"{type(exc).__name__}: {exc}", False
    result = {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if detail:
        result["detail"] = detail
    return result


def _database() -> str | None:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()
    return None


def _redis() -> str | None:
    import redis

    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2
    )
    try:
        client.ping()
    finally:
        client.close()
    return None


def _worker() -> str | None:
    from helpdesk.celery import app

    replies = app.control.ping(timeout=1.0)
    if not replies:
        raise RuntimeError("no Celery worker answered")
    return f"{len(replies)} worker(s)"


def health_report() -> dict:
    checks = {"database": _timed(_database), "redis": _timed(_redis), "worker": _timed(_worker)}
    status = "ok" if all(c["ok"] for c in checks.values()) else "unavailable"
    return {"status": status, "checks": checks}
