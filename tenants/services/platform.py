"""The public tenant and its hosts: what the operator site and signup are served from."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from tenants.models import Domain, Tenant


def public_tenant_ensure() -> Tenant:
    """Create the public tenant and map BASE_DOMAIN (and loopback names) to it. Idempotent."""
    with transaction.atomic():
        tenant, _ = Tenant.objects.get_or_create(
            schema_name="public", defaults={"slug": "public", "name": "Platform"}
        )
        hosts = [settings.BASE_DOMAIN, "127.0.0.1"]
        for index, host in enumerate(dict.fromkeys(hosts)):
            Domain.objects.get_or_create(
                domain=host, defaults={"tenant": tenant, "is_primary": index == 0}
            )
    return tenant
