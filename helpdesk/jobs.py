"""Per-workspace periodic work: beat sends one task, which enqueues the real one per workspace.

Beat runs in the public schema and knows nothing about workspaces, so a schedule entry names
the fan-out task and the task to run in every workspace:

    CELERY_BEAT_SCHEDULE = {
        "sla-due-scan": {
            "task": "helpdesk.jobs.tenants_fan_out_task",
            "schedule": 60.0,
            "args": ("helpdesk.sla.tasks.sla_due_scan_task",),
        },
    }

Each enqueued task carries the workspace's schema in its headers (tenant-schemas-celery), so it
runs there. Suspended workspaces are skipped: their data is kept but nothing runs for them.
tenant_schemas_celery's TenantAwareScheduler is not used: it would also send the public-schema
entries (spare schema replenishment) to every workspace.
"""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.models import Tenant


def tenant_schemas_active() -> list[str]:
    """Schemas of the workspaces that are not suspended, oldest first."""
    return list(
        Tenant.objects.exclude(schema_name=get_public_schema_name())
        .filter(status=Tenant.Status.ACTIVE)
        .order_by("created_at", "pk")
        .values_list("schema_name", flat=True)
    )


def tenant_task_fan_out(
    *, task_name: str, args: list | tuple = (), kwargs: dict | None = None
) -> list[dict]:
    """Enqueue `task_name` once in every active workspace's schema.

    Returns [{"schema": ..., "task_id": ...}] in enqueue order. An unknown task name raises
    before anything is sent, so a typo in the schedule fails loudly instead of queueing tasks
    no worker can run.
    """
    from helpdesk.celery import app

    task = app.tasks.get(task_name)
    if task is None:
        raise ValueError(f"Unknown task {task_name!r}.")
    sent = []
    for schema in tenant_schemas_active():
        # The schema header is taken from the connection at send time.
        with schema_context(schema):
            result = task.apply_async(args=list(args), kwargs=kwargs or {})
        sent.append({"schema": schema, "task_id": result.id})
    return sent


@shared_task(name="helpdesk.jobs.tenants_fan_out_task")
def tenants_fan_out_task(
    task_name: str, args: list | None = None, kwargs: dict | None = None
) -> list[dict]:
    return tenant_task_fan_out(task_name=task_name, args=args or (), kwargs=kwargs)
