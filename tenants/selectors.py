"""Reads on workspaces for the public site and the operator admin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, TypedDict

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery
from django_tenants.utils import schema_exists, tenant_context

from tenants.models import Domain, Tenant

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _PrimaryDomain(TypedDict):
        primary_domain: str | None

    # A row of tenant_operator_list(), which annotates each workspace with its primary host.
    TenantWithPrimaryDomain: TypeAlias = WithAnnotations[Tenant, _PrimaryDomain]

_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*://")


def tenant_find_by_address(*, address: str) -> Tenant | None:
    """The workspace someone means by "acme", "acme.<BASE_DOMAIN>", a custom domain or a URL."""
    host = _SCHEME_RE.sub("", address.strip().lower())
    host = host.split("/", 1)[0].split(":", 1)[0].rstrip(".")
    if not host:
        return None
    workspaces = Tenant.objects.exclude(schema_name="public")
    if "." not in host:
        return workspaces.filter(slug=host).first()
    domain = Domain.objects.filter(domain=host, tenant__in=workspaces).select_related("tenant")
    found = domain.first()
    return found.tenant if found else None


def tenant_operator_list() -> QuerySet[TenantWithPrimaryDomain]:
    """Every workspace (never the public site itself) with its primary host, in one query."""
    primary = Domain.objects.filter(tenant=OuterRef("pk"), is_primary=True).values("domain")[:1]
    return Tenant.objects.exclude(schema_name="public").annotate(primary_domain=Subquery(primary))


@dataclass(frozen=True)
class TenantFootprint:
    agents: int
    schema_bytes: int
    domains: list[str]


def tenant_footprint(*, tenant: Tenant) -> TenantFootprint:
    """What deleting the workspace would destroy, shown before the operator confirms."""
    from tenants.agents.models import User

    agents = 0
    # A row whose schema is already gone must still be deletable, so it must still be viewable.
    if schema_exists(tenant.schema_name):
        with tenant_context(tenant):
            agents = User.objects.count()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
            [tenant.schema_name],
        )
        schema_bytes = int(cur.fetchone()[0])
    hosts = tenant.domains.order_by("-is_primary", "domain").values_list("domain", flat=True)
    domains = list(hosts)
    return TenantFootprint(agents=agents, schema_bytes=schema_bytes, domains=domains)
