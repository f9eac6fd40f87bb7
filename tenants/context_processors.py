from django.conf import settings

from tenants.navigation import app_navigation


def workspace(request):
    tenant = getattr(request, "tenant", None)
    is_public = tenant is None or tenant.is_public
    context = {
        "current_tenant": tenant,
        "is_public_site": is_public,
        "base_domain": settings.BASE_DOMAIN,
    }
    if not is_public and not tenant.is_suspended:
        from tenants.agents.models import User
        from tenants.workspace.selectors import workspace_settings_get

        context["workspace_settings"] = workspace_settings_get()
        context["agent_status_choices"] = User.Status.choices
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            from django.urls import reverse

            context["agent_status_url"] = reverse("agent_status_set")
        context.update(app_navigation(request))
    return context
