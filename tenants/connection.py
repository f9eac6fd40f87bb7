"""Django's database connection as django-tenants' backend makes it, with the schema it is set to.

django-stubs types `django.db.connection` as a plain BaseDatabaseWrapper, which has no schema;
our ENGINE is django_tenants.postgresql_backend, whose wrapper adds it. `connection` here is the
very same per-thread proxy, only typed with those attributes, so code that reads or switches the
schema imports it from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.db import connection as _django_connection

from tenants.models import Tenant

if TYPE_CHECKING:
    from django.db.backends.postgresql.base import DatabaseWrapper
    from django_tenants.postgresql_backend.base import FakeTenant

    class TenantDatabaseWrapper(DatabaseWrapper):
        schema_name: str
        # set_schema(), set_schema_to_public() and schema_context() set a FakeTenant, which
        # carries only the schema name; set_tenant() and tenant_context() set a real Tenant.
        tenant: Tenant | FakeTenant

        def set_tenant(self, tenant: Tenant | FakeTenant, include_public: bool = True) -> None: ...
        def set_schema(
            self, schema_name: str, include_public: bool = True, tenant_type: str | None = None
        ) -> None: ...
        def set_schema_to_public(self) -> None: ...


connection = cast("TenantDatabaseWrapper", _django_connection)


def connection_workspace() -> Tenant:
    """The workspace the connection is set to, for services that act on it (rename, mail).

    Raises on the public schema and on a bare schema name (schema_context), which carries no
    workspace record to read or change.
    """
    tenant = connection.tenant
    if not isinstance(tenant, Tenant) or tenant.is_public:
        raise RuntimeError("This runs inside a workspace's schema (a request or tenant_context).")
    return tenant
