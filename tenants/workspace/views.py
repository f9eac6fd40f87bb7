"""Workspace settings: general (name, logo, defaults) and the custom domain. Admins only."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tenants.agents.http import AgentRequest
from tenants.agents.permissions import admin_required
from tenants.workspace import services
from tenants.workspace.forms import CustomDomainForm, WorkspaceSettingsForm
from tenants.workspace.selectors import workspace_settings_get


def _page(
    request: AgentRequest,
    *,
    form: WorkspaceSettingsForm | None = None,
    domain_form: CustomDomainForm | None = None,
    status: int = 200,
) -> HttpResponse:
    row = workspace_settings_get()
    tenant = request.tenant
    if form is None:
        form = WorkspaceSettingsForm(
            initial={
                "name": tenant.name,
                "timezone": row.timezone,
                "default_language": row.default_language,
            }
        )
    context = {
        "form": form,
        "domain_form": domain_form or CustomDomainForm(),
        "custom_domains": services.custom_domain_list(),
        "workspace_address": f"{tenant.slug}.{settings.BASE_DOMAIN}",
        "settings_row": row,
    }
    return render(request, "workspace/settings.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def workspace_settings(request: AgentRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    form = WorkspaceSettingsForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.workspace_settings_update(
                actor=request.user,
                name=data["name"],
                timezone=data["timezone"],
                default_language=data["default_language"],
                logo=data["logo"],
                logo_remove=data["logo_remove"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Workspace settings saved.")
            return redirect("workspace_settings")
    return _page(request, form=form, status=400)


@require_POST
@admin_required
def workspace_domain_add(request: AgentRequest) -> HttpResponse:
    form = CustomDomainForm(request.POST)
    if form.is_valid():
        try:
            domain = services.workspace_domain_add(
                actor=request.user, domain=form.cleaned_data["domain"]
            )
        except ValidationError as exc:
            form.add_error("domain", exc)
        else:
            messages.success(request, f"{domain.domain} was added. Now point its DNS at us.")
            return redirect("workspace_settings")
    return _page(request, domain_form=form, status=400)


@require_POST
@admin_required
def workspace_domain_remove(request: AgentRequest, domain_id: int) -> HttpResponse:
    domain = services.custom_domain_access(actor=request.user, domain_id=domain_id)
    services.workspace_domain_remove(actor=request.user, domain=domain)
    messages.success(request, f"{domain.domain} no longer leads to this workspace.")
    return redirect("workspace_settings")
