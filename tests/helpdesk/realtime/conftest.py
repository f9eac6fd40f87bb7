"""Two workspaces whose agents share ids and email, and sockets opened against the real ASGI app.

Scenarios run under asyncio.run(), so the consumers' ORM calls go where they go under daphne:
Channels' single DB worker thread, whose connection serves both workspaces in turn. That thread
has its own connection, hence `transactional_db`.
"""

from __future__ import annotations

import pytest
from asgiref.sync import SyncToAsync
from django.db import connections
from django_tenants.utils import tenant_context

from helpdesk.realtime.db import db_threads_close
from tests.factories import AgentFactory, host_of
from tests.helpdesk.realtime.wsclient import SHARED_EMAIL, Workspace


@pytest.fixture
def ws_thread_connections(transactional_db):
    """Close the DB worker thread's connection afterwards, so the test database can be dropped."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)
    db_threads_close()


@pytest.fixture
def workspaces(make_tenant, ws_thread_connections):
    from tenants.agents.models import User

    made = []
    for slug, company, owner_name in (
        ("acme", "Acme", "Ann Acme"),
        ("globex", "Globex", "Gus Globex"),
    ):
        tenant = make_tenant(slug=slug, company_name=company, owner_name=owner_name)
        sam = AgentFactory(tenant=tenant, email=SHARED_EMAIL, name=f"Sam at {company}")
        with tenant_context(tenant):
            owner = User.objects.get(role=User.Role.OWNER)
        made.append(Workspace(tenant=tenant, host=host_of(tenant), owner=owner, sam=sam))
    a, b = made
    # The premise of every isolation test here: same ids and email on both sides.
    assert (a.sam.pk, a.sam.email) == (b.sam.pk, b.sam.email)
    assert a.owner.pk == b.owner.pk
    return a, b
