"""Celery tasks run in the schema they were sent from, on a real worker against real Redis."""

from __future__ import annotations

import pytest
from celery.signals import task_postrun
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from helpdesk.celery import app
from helpdesk.jobs import tenant_task_fan_out, tenants_fan_out_task
from tenants.agents.models import User
from tenants.services.operator import tenant_suspend
from tests.factories import AgentFactory

RESULT_TIMEOUT = 20


@app.task(name="tests.helpdesk.schema_probe")
def schema_probe(label: str) -> dict:
    return {
        "label": label,
        "schema": connection.schema_name,
        "names": sorted(User.objects.values_list("name", flat=True)),
    }


@app.task(name="tests.helpdesk.cache_mark")
def cache_mark(label: str) -> None:
    cache.set("fan-out-mark", f"{label}:{connection.schema_name}", 60)


@pytest.fixture
def schemas_left_after_tasks():
    """The worker connection's schema right after each task, once tenant-schemas-celery is done."""
    seen: list[tuple[str, str]] = []

    def record(sender=None, **kwargs):
        seen.append((sender.name, connection.schema_name))

    # Connected after tenant-schemas-celery's own postrun handler, so it runs after the restore.
    task_postrun.connect(record, weak=False)
    yield seen
    task_postrun.disconnect(record)


@pytest.fixture
def three_schemas(make_tenant):
    """Acme and Globex with an agent of the same id and email; a staff account in public."""
    a = make_tenant(slug="acme", company_name="Acme", owner_name="Ann Acme")
    b = make_tenant(slug="globex", company_name="Globex", owner_name="Gus Globex")
    sam_a = AgentFactory(tenant=a, email="sam@shared.example", name="Sam at Acme")
    sam_b = AgentFactory(tenant=b, email="sam@shared.example", name="Sam at Globex")
    assert sam_a.pk == sam_b.pk
    with schema_context("public"):
        User.objects.create_user(email="pat@platform.example", name="Pat Platform", is_staff=True)
    return a, b


EXPECTED_NAMES = {
    "acme": ["Ann Acme", "Sam at Acme"],
    "globex": ["Gus Globex", "Sam at Globex"],
    "public": ["Pat Platform"],
}


@pytest.mark.timeout(120)
def test_tasks_sent_interleaved_run_in_their_own_schema(
    three_schemas, live_worker, schemas_left_after_tasks
):
    a, b = three_schemas
    sent = []
    for round_ in range(5):
        for tenant in (a, b, None):
            if tenant is None:
                sent.append(("public", schema_probe.delay(f"public-{round_}")))
            else:
                with tenant_context(tenant):
                    sent.append((tenant.schema_name, schema_probe.delay(f"{tenant.slug}-{round_}")))
            assert connection.schema_name == "public"

    for schema, result in sent:
        out = result.get(timeout=RESULT_TIMEOUT)
        assert out["schema"] == schema
        assert out["label"].startswith(schema)
        assert out["names"] == EXPECTED_NAMES[schema]

    probes = [schema for name, schema in schemas_left_after_tasks if name == schema_probe.name]
    assert len(probes) == len(sent)
    assert set(probes) == {"public"}  # never left in a workspace for the next task


@pytest.mark.timeout(120)
def test_beat_fan_out_reaches_every_active_workspace_once(make_tenant, three_schemas, live_worker):
    a, b = three_schemas
    paused = make_tenant(slug="paused", company_name="Paused Inc", owner_name="Pia Paused")
    tenant_suspend(tenant=paused)

    # As beat sends it: from the public schema.
    sent = tenants_fan_out_task.delay(schema_probe.name, ["fan"]).get(timeout=RESULT_TIMEOUT)

    assert [s["schema"] for s in sent] == [a.schema_name, b.schema_name]
    for item in sent:
        out = app.AsyncResult(item["task_id"]).get(timeout=RESULT_TIMEOUT)
        assert out["schema"] == item["schema"]
        assert out["names"] == EXPECTED_NAMES[item["schema"]]


def test_fan_out_skips_suspended_workspaces_and_public(db, make_tenant):
    a = make_tenant(slug="acme", company_name="Acme")
    paused = make_tenant(slug="paused", company_name="Paused Inc")
    tenant_suspend(tenant=paused)

    # Eager here (the test settings): the tasks run inline, each in its workspace.
    sent = tenant_task_fan_out(task_name=cache_mark.name, args=["beat"])

    assert [s["schema"] for s in sent] == ["acme"]
    assert connection.schema_name == "public"
    with tenant_context(a):
        assert cache.get("fan-out-mark") == "beat:acme"
    with tenant_context(paused):
        assert cache.get("fan-out-mark") is None
    assert cache.get("fan-out-mark") is None


def test_fan_out_of_an_unknown_task_sends_nothing(db, make_tenant):
    make_tenant(slug="acme", company_name="Acme")

    with pytest.raises(ValueError, match="Unknown task"):
        tenant_task_fan_out(task_name="tests.helpdesk.no_such_task")
