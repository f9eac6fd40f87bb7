"""Creating workspace schemas without running every migration at signup.

A template schema (settings.TENANT_TEMPLATE_SCHEMA) is migrated once per code version. Spare
schemas are cloned from it ahead of time by a background task; signup renames one spare to the
new workspace's name, which is a catalogue update and takes about a millisecond. With no spare
left, signup clones the template inside its own transaction. Every schema made from the template
carries a comment with the fingerprint of the migrations it was made with, so a spare left over
from an older release is never handed out.

All DDL here is transactional in PostgreSQL: a signup that fails after claiming or cloning a
schema rolls the schema back with everything else.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CLONE_SCHEMA_FUNCTION, CloneSchema
from django_tenants.utils import schema_exists

from tenants.connection import connection

log = logging.getLogger(__name__)

SPARE_PREFIX = "_spare_"


def template_schema_name() -> str:
    return settings.TENANT_TEMPLATE_SCHEMA


@cache
def migrations_fingerprint() -> str:
    """A short hash of the newest migration of every tenant app in this code base."""
    tenant_labels = {_label_for(a) for a in settings.TENANT_APPS}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    leaves = sorted(n for n in loader.graph.leaf_nodes() if n[0] in tenant_labels)
    return hashlib.sha256(repr(leaves).encode()).hexdigest()[:16]


def _label_for(app_path: str) -> str:
    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name == app_path:
            return config.label
    return app_path.rsplit(".", 1)[-1]


def _quote(name: str) -> str:
    # Schema names are validated before they get here; quoting guards the DDL regardless.
    return '"' + name.replace('"', '""') + '"'


def _schema_comment(name: str) -> str | None:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
            [name],
        )
        row = cur.fetchone()
    return row[0] if row else None


def _set_schema_comment(name: str, comment: str | None) -> None:
    with connection.cursor() as cur:
        if comment is None:
            cur.execute(f"COMMENT ON SCHEMA {_quote(name)} IS NULL")
        else:
            cur.execute(f"COMMENT ON SCHEMA {_quote(name)} IS %s", [comment])


def template_schema_ensure(*, verbosity: int = 0) -> bool:
    """Create or migrate the template schema. Returns True when it had to do any work."""
    name = template_schema_name()
    connection.set_schema_to_public()
    fingerprint = migrations_fingerprint()
    if schema_exists(name) and _schema_comment(name) == fingerprint:
        return False
    if not schema_exists(name):
        with connection.cursor() as cur:
            cur.execute(f"CREATE SCHEMA {_quote(name)}")
    call_command(
        "migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=verbosity
    )
    connection.set_schema_to_public()
    _set_schema_comment(name, fingerprint)
    return True


def _clone_function_ensure() -> None:
    """Install django-tenants' clone function once per version of it, not once per clone.

    CloneSchema.clone_schema() re-creates its 4,500-line PL/pgSQL function on every call, and a
    PostgreSQL backend keeps every compiled version: about 11 MB more per clone on that
    connection, and each clone slower than the last (0.6 s to 1.6 s after 40 clones, measured).
    The function's comment records which version is installed.
    """
    digest = hashlib.sha256(CLONE_SCHEMA_FUNCTION.encode()).hexdigest()[:16]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname = 'clone_schema'"
        )
        if [row[0] for row in cur.fetchall()] == [digest]:
            return
        CloneSchema()._create_clone_schema_function()
        cur.execute(
            "COMMENT ON FUNCTION public.clone_schema(text, text, public.cloneparms[]) IS %s",
            [digest],
        )


def schema_clone_from_template(*, schema_name: str) -> None:
    """Copy the template's tables, sequences and rows (migration records included)."""
    connection.set_schema_to_public()
    _clone_function_ensure()
    if schema_exists(schema_name, case_sensitive=False):
        raise ValidationError("This address is already taken.", code="taken")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT public.clone_schema(%s, %s, 'DATA')", [template_schema_name(), schema_name]
        )
    connection.set_schema_to_public()


def spare_schema_names(*, current_only: bool = True) -> list[str]:
    sql = "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s"
    params: list[str] = [SPARE_PREFIX.replace("_", r"\_") + "%"]
    if current_only:
        sql += " AND obj_description(oid, 'pg_namespace') = %s"
        params.append(migrations_fingerprint())
    with connection.cursor() as cur:
        cur.execute(sql + " ORDER BY nspname", params)
        return [r[0] for r in cur.fetchall()]


def spare_schema_claim(*, schema_name: str) -> bool:
    """Rename one current spare to schema_name. Must run inside the signup's transaction.

    The advisory lock keeps two concurrent signups off the same spare; it is released when the
    transaction ends. Returns False when no spare could be had.
    """
    assert connection.in_atomic_block, "claim a spare inside the signup transaction"
    for spare in spare_schema_names():
        with connection.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [spare])
            if not cur.fetchone()[0]:
                continue
            # Another signup may have taken and committed it between the listing and the lock.
            cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [spare])
            if cur.fetchone() is None:
                continue
            cur.execute(f"ALTER SCHEMA {_quote(spare)} RENAME TO {_quote(schema_name)}")
        _set_schema_comment(schema_name, None)
        return True
    return False


def workspace_schema_provision(*, schema_name: str) -> str:
    """Give schema_name a fully migrated schema; returns "spare" or "clone" (how it was made)."""
    if schema_exists(schema_name, case_sensitive=False):
        raise ValidationError("This address is already taken.", code="taken")
    if spare_schema_claim(schema_name=schema_name):
        return "spare"
    if not schema_exists(template_schema_name()):
        raise RuntimeError("The workspace template schema is missing; run `manage.py bootstrap`.")
    schema_clone_from_template(schema_name=schema_name)
    return "clone"


def spare_schemas_replenish(*, target: int | None = None) -> int:
    """Drop stale spares and clone new ones until `target` current spares exist.

    Returns how many were created. Safe to run concurrently: each clone has a random name.
    """
    target = settings.TENANT_SPARE_SCHEMAS if target is None else target
    connection.set_schema_to_public()
    current = set(spare_schema_names())
    for stale in set(spare_schema_names(current_only=False)) - current:
        schema_drop(schema_name=stale)
    created = 0
    if target <= 0:
        return 0
    template_schema_ensure()
    fingerprint = migrations_fingerprint()
    for _ in range(max(0, target - len(current))):
        name = SPARE_PREFIX + secrets.token_hex(6)
        with transaction.atomic():
            schema_clone_from_template(schema_name=name)
            _set_schema_comment(name, fingerprint)
        created += 1
    if created:
        log.info("Cloned %s spare workspace schema(s)", created)
    return created


def schema_drop(*, schema_name: str) -> None:
    if schema_name in ("public", "information_schema") or schema_name.startswith("pg_"):
        raise ValueError(f"refusing to drop schema {schema_name!r}")
    connection.set_schema_to_public()
    try:
        with connection.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {_quote(schema_name)} CASCADE")
    except DatabaseError:
        log.exception("Could not drop schema %s", schema_name)
        raise
