from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from tenants.models import Tenant
from tenants.navigation import app_navigation


def workspace(request: HttpRequest) -> dict[str, Any]:
    tenant: Tenant | None = getattr(request, "tenant", None)
    workspace_tenant = tenant if tenant is not None and not tenant.is_public else None
    context: dict[str, Any] = {
        "current_tenant": tenant,
        "is_public_site": workspace_tenant is None,
        "base_domain": settings.BASE_DOMAIN,
    }
    if workspace_tenant is not None and not workspace_tenant.is_suspended:
        from tenants.agents.models import User
        from tenants.workspace.selectors import workspace_settings_get

        context["workspace_settings"] = workspace_settings_get()
        context["agent_status_choices"] = User.Status.choices
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            from django.urls import reverse

            context["agent_status_url"] = reverse("agent_status_set")
        context.update(app_navigation(request))
    return context
