"""The request as the tenant middleware hands it to views.

TenantHostMiddleware (django-tenants) sets `request.tenant` on every request it lets through:
a workspace, or the public site's own record. Views that read it annotate their request with
TenantRequest; Django never builds one, the annotation only tells the type checker.
"""

from __future__ import annotations

from django.http import HttpRequest

from tenants.models import Tenant


class TenantRequest(HttpRequest):
    tenant: Tenant
