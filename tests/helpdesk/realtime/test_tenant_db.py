"""tenant_db: the schema is chosen per call inside the DB thread and put back afterwards."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache
from django.db import connection, connections

from helpdesk.realtime import db
from helpdesk.realtime.db import db_threads_close, tenant_db
from tenants.agents.models import User
from tests.helpdesk.realtime.wsclient import run


def _names():
    return sorted(User.objects.values_list("name", flat=True))


def _schema():
    return connection.schema_name


def _leave_in(schema_name):
    # Resolved inside the DB thread: `connection` is per thread.
    connection.set_schema(schema_name)


def test_enters_the_schema_whatever_the_connection_was_left_in(workspaces):
    a, b = workspaces

    async def scenario():
        # As if an earlier piece of code had left the shared thread's connection in B.
        await database_sync_to_async(_leave_in)(b.tenant.schema_name)
        names_a = await tenant_db(a.tenant, _names)
        left_after_a = await database_sync_to_async(_schema)()
        names_b = await tenant_db({"tenant": b.tenant}, _names)
        await database_sync_to_async(_leave_in)("public")
        names_a_again = await tenant_db(a.tenant, _names)
        left_after_public = await database_sync_to_async(_schema)()
        return names_a, left_after_a, names_b, names_a_again, left_after_public

    names_a, left_after_a, names_b, names_a_again, left_after_public = run(scenario())

    assert names_a == names_a_again == ["Ann Acme", "Sam at Acme"]
    assert names_b == ["Gus Globex", "Sam at Globex"]
    # Put back exactly as found, never left in the tenant the call used.
    assert left_after_a == b.tenant.schema_name
    assert left_after_public == "public"


def test_schema_is_restored_when_the_function_raises(workspaces):
    a, _ = workspaces

    def boom():
        User.objects.get(email="nobody@example.com")

    async def scenario():
        with pytest.raises(User.DoesNotExist):
            await tenant_db(a.tenant, boom)
        return await database_sync_to_async(_schema)()

    assert run(scenario()) == "public"


def test_refuses_a_scope_without_tenant(workspaces):
    async def scenario():
        with pytest.raises(RuntimeError, match="No tenant in the scope"):
            await tenant_db({"type": "websocket"}, _names)

    run(scenario())


def test_cache_used_from_a_consumer_is_per_workspace(workspaces):
    a, b = workspaces

    async def scenario():
        await tenant_db(a.tenant, cache.set, "draft", "from acme")
        await tenant_db(b.tenant, cache.set, "draft", "from globex")
        return await tenant_db(a.tenant, cache.get, "draft"), await tenant_db(
            b.tenant, cache.get, "draft"
        )

    assert run(scenario()) == ("from acme", "from globex")


def _backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_connection_used_moments_ago_is_not_checked_but_an_idle_one_is(
    workspaces, settings, monkeypatch
):
    """Calls in quick succession skip Django's health check (a `SELECT 1` round trip each);
    after HEALTH_CHECK_AFTER_IDLE, a connection the server dropped is noticed and replaced
    before the call uses it, so the call still succeeds."""
    a, _ = workspaces
    settings.REALTIME_DB_THREADS = 1  # one thread, one connection: the calls below share it
    db_threads_close()
    checks = []
    wrapper = type(connections["default"])
    checked = wrapper.is_usable

    def counting_is_usable(self):
        checks.append(self.alias)
        return checked(self)

    monkeypatch.setattr(wrapper, "is_usable", counting_is_usable)

    async def scenario():
        pid = await tenant_db(a.tenant, _backend_pid)
        quick = [await tenant_db(a.tenant, _names) for _ in range(3)]
        checks_when_quick = len(checks)
        await database_sync_to_async(_terminate)(pid)
        monkeypatch.setattr(db, "HEALTH_CHECK_AFTER_IDLE", 0.0)
        names_after = await tenant_db(a.tenant, _names)
        return pid, quick, checks_when_quick, names_after, await tenant_db(a.tenant, _backend_pid)

    pid, quick, checks_when_quick, names_after, new_pid = run(scenario())

    assert quick == [["Ann Acme", "Sam at Acme"]] * 3
    assert checks_when_quick == 0
    assert names_after == ["Ann Acme", "Sam at Acme"]
    assert checks and new_pid != pid
