"""What platform operators do to a workspace: suspend, reactivate, delete.

Suspending only flips a flag: TenantSuspendedMiddleware answers every request on the workspace's
hosts with an "unavailable" page, so nobody signs in and nothing is lost. Deleting is final: the
rows in the public schema, the workspace's schema and its uploaded files all go.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from tenants.models import Tenant
from tenants.services.provisioning import schema_drop

log = logging.getLogger(__name__)


def _refuse_public(tenant: Tenant) -> None:
    if tenant.is_public:
        raise ValidationError("The public site is not a workspace.", code="public")


def tenant_suspend(*, tenant: Tenant, actor_email: str = "") -> Tenant:
    """Make the workspace unavailable; its data is kept. Suspending twice changes nothing."""
    _refuse_public(tenant)
    if tenant.is_suspended:
        return tenant
    tenant.status = Tenant.Status.SUSPENDED
    tenant.suspended_at = timezone.now()
    tenant.save(update_fields=["status", "suspended_at"])
    log.info("Workspace %s suspended by %s", tenant.slug, actor_email or "system")
    return tenant


def tenant_reactivate(*, tenant: Tenant, actor_email: str = "") -> Tenant:
    _refuse_public(tenant)
    if not tenant.is_suspended:
        return tenant
    tenant.status = Tenant.Status.ACTIVE
    tenant.suspended_at = None
    tenant.save(update_fields=["status", "suspended_at"])
    log.info("Workspace %s reactivated by %s", tenant.slug, actor_email or "system")
    return tenant


def tenant_delete(*, tenant: Tenant, confirm_slug: str, actor_email: str = "") -> None:
    """Drop the workspace for good. `confirm_slug` must repeat its address exactly."""
    _refuse_public(tenant)
    if confirm_slug.strip() != tenant.slug:
        raise ValidationError(
            "Type the workspace address exactly as shown to confirm.", code="confirmation"
        )
    schema_name, slug = tenant.schema_name, tenant.slug
    with transaction.atomic():
        # Domains go with the row (foreign key cascade); the schema drop is transactional DDL,
        # so a failure anywhere leaves the workspace whole.
        Tenant.objects.filter(pk=tenant.pk).delete()
        # Deferred foreign-key checks still queued in this transaction (rows written to the
        # workspace earlier in it) would make PostgreSQL refuse the DROP; run them now.
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_drop(schema_name=schema_name)
        transaction.on_commit(lambda: _tenant_files_remove(schema_name=schema_name))
    log.info("Workspace %s deleted by %s", slug, actor_email or "system")


def _tenant_files_remove(*, schema_name: str) -> None:
    # Uploads live under MEDIA_ROOT/<schema> (MULTITENANT_RELATIVE_MEDIA_ROOT); a later workspace
    # given the same address must not inherit them.
    root = Path(settings.MEDIA_ROOT).resolve()
    folder = (root / schema_name).resolve()
    if folder.parent == root and folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
