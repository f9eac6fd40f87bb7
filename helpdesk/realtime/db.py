"""Running ORM code for a consumer inside its tenant's schema.

Consumers are async; the ORM is not. Consumer calls run in a small pool of database threads
(REALTIME_DB_THREADS), each with its own Django connection that serves every socket of every
tenant in turn. Channels' default, one thread for the whole process, made every message wait
for every other message's database round trips. Whatever schema the previous call left on a
connection is meaningless, so every call made here selects the schema itself, inside the worker
thread, right before the function runs, and puts the previous one back afterwards.

Calls of one socket still run one after the other (a consumer awaits each frame's call); calls
of different sockets run side by side, serialised where it matters by the database's row locks.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections
from django_tenants.utils import schema_context, tenant_context

from helpdesk.realtime.fanout import group_send_many
from helpdesk.realtime.groups import deferred_broadcasts
from tenants.models import Tenant

log = logging.getLogger(__name__)

T = TypeVar("T")


def _tenant_from(scope_or_tenant: Tenant | dict) -> Tenant:
    if isinstance(scope_or_tenant, Tenant):
        return scope_or_tenant
    tenant = scope_or_tenant.get("tenant")
    if not isinstance(tenant, Tenant):
        # A consumer mounted without TenantWebsocketMiddleware must fail loudly, not fall back
        # to whatever schema the connection happens to be in.
        raise RuntimeError("No tenant in the scope; wrap the route in TenantWebsocketMiddleware.")
    return tenant


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
# The connections the pool's threads opened, so tests can close them before dropping databases.
_pool_connections: weakref.WeakSet = weakref.WeakSet()


def _db_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=settings.REALTIME_DB_THREADS, thread_name_prefix="tenant-db"
            )
        return _pool


def db_threads_close() -> None:
    """Close the pool's connections and threads (tests, shutdown); a new pool starts on demand."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)
    for wrapper in list(_pool_connections):
        # The pool's threads are gone; allow closing their connections from this one.
        wrapper.inc_thread_sharing()
        try:
            wrapper.close()
        finally:
            wrapper.dec_thread_sharing()


# A pool connection used less than this many seconds ago is taken to be alive without Django's
# health check (CONN_HEALTH_CHECKS): Channels' database_sync_to_async treats every call as a new
# request, so each one began with a `SELECT 1` round trip, one more per batch of chat messages
# than the batch needs. A connection idle for longer is checked as before.
HEALTH_CHECK_AFTER_IDLE = 5.0
_thread = threading.local()


def _run_collecting(
    func: Callable[..., T], args: tuple, kwargs: dict
) -> tuple[T | None, BaseException | None, list[tuple[str, dict]]]:
    """Call `func`, collecting the broadcasts it commits for the event loop to send.

    Around the call, what Channels' database_sync_to_async does for a request (drop a
    connection that is broken, too old, or left with autocommit off), except the health check of
    a connection this thread used moments ago.
    """
    connection = connections["default"]
    _pool_connections.add(connection)
    close_old_connections()
    if time.monotonic() - getattr(_thread, "used_at", float("-inf")) < HEALTH_CHECK_AFTER_IDLE:
        # Django's own flag (BaseDatabaseWrapper, 4.1+), missing from django-stubs.
        connection.health_check_done = True  # type: ignore[attr-defined]
    pending: list[tuple[str, dict]] = []
    token = deferred_broadcasts.set(pending)
    try:
        return func(*args, **kwargs), None, pending
    except Exception as exc:
        # What committed before the failure is still announced.
        return None, exc, pending
    finally:
        deferred_broadcasts.reset(token)
        close_old_connections()
        _thread.used_at = time.monotonic()


def _in_tenant(tenant: Tenant, func: Callable[..., T], args: tuple, kwargs: dict) -> T:
    with tenant_context(tenant):
        return func(*args, **kwargs)


def _run_in_public(func: Callable[..., T], args: tuple, kwargs: dict) -> T:
    with schema_context("public"):
        return func(*args, **kwargs)


async def _broadcast(pending: list[tuple[str, dict]]) -> None:
    """Send what a database call committed, from the event loop, in one Redis round trip."""
    if not pending:
        return
    try:
        await group_send_many(pending)
    except Exception:
        # Like a failed on_commit send: logged, and clients catch up on reconnect.
        log.exception("Broadcast of %d events failed", len(pending))


async def tenant_db(
    scope_or_tenant: Tenant | dict, func: Callable[..., T], /, *args, **kwargs
) -> T:
    """Await `func(*args, **kwargs)` run in a DB worker thread inside the tenant's schema.

    Every ORM call a consumer makes goes through here (or `public_db` for platform records).
    """
    tenant = _tenant_from(scope_or_tenant)
    return await _db_call(_in_tenant, tenant, func, args, kwargs)


async def batch_db(func: Callable[..., T], /, *args: Any) -> T:
    """Await `func(*args)` run in a DB worker thread in no particular schema: for a batch of
    several workspaces' writes, whose service enters each workspace's schema itself (as
    `tenant_context`). Committed broadcasts are sent afterwards, as with `tenant_db`."""
    return await _db_call(func, *args)


async def _db_call(func: Callable[..., T], *args: Any) -> T:
    call = SyncToAsync(_run_collecting, thread_sensitive=False, executor=_db_pool())
    result, error, pending = await call(func, args, {})
    await _broadcast(pending)
    if error is not None:
        raise error
    return cast(T, result)


async def public_db(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Like `tenant_db`, for the public schema (tenants and their hosts)."""
    return await database_sync_to_async(_run_in_public)(func, args, kwargs)
