"""tenant_db: the schema is chosen per call inside the DB thread and put back afterwards."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache
from django.db import connection

from helpdesk.realtime.db import tenant_db
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
