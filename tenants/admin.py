"""The platform operator's console at /operator/ on the public host.

Workspaces are created by signup (or `create_tenant`), never here. Suspend and reactivate are
list actions and buttons on the workspace page; deleting drops the schema, so it only happens
from a page where the operator types the workspace's address. Django's bulk delete is removed:
it would delete Tenant rows and leave their schemas behind, or worse, drop many at one click.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from tenants.agents.models import User
from tenants.hosts import host_url
from tenants.models import Domain, Tenant
from tenants.selectors import tenant_footprint, tenant_operator_list
from tenants.services.operator import tenant_delete, tenant_reactivate, tenant_suspend

if TYPE_CHECKING:
    from tenants.selectors import TenantWithPrimaryDomain


class OperatorLoginForm(AdminAuthenticationForm):
    """Checks platform staff against the public schema's users with Django's own backend only.

    allauth's backend (in AUTHENTICATION_BACKENDS for workspace agents) looks up email addresses
    in a table that exists only in workspace schemas, so on the public host it must not run.
    """

    def clean(self):
        email = (self.cleaned_data.get("username") or "").strip().lower()  # stored lowercased
        password = self.cleaned_data.get("password")
        if email and password:
            backend = ModelBackend()
            self.user_cache = backend.authenticate(self.request, username=email, password=password)
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.user_cache.backend = f"{ModelBackend.__module__}.{ModelBackend.__qualname__}"
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


admin.site.login_form = OperatorLoginForm

_urls_for_registered = admin.site.get_urls


def _public_schema_urls():
    """Workspace-only apps (allauth's, later chat's...) register admin pages too, but their
    tables exist only in workspace schemas: on the public host those pages could only fail, and
    django-tenants lists them as "Not available for global schema". The console is built once,
    after every app registered, so they are dropped here."""
    for model in list(admin.site._registry):
        if model._meta.app_config.name not in settings.SHARED_APPS:
            admin.site.unregister(model)
    return _urls_for_registered()


admin.site.get_urls = _public_schema_urls  # type: ignore[method-assign]
admin.site.site_header = "Helpdesk operator"
admin.site.site_title = "Helpdesk operator"
admin.site.index_title = "Platform"


class DomainInline(admin.TabularInline):
    """Hosts that reach the workspace. Custom domains are managed in the workspace's settings."""

    model = Domain
    fields = ("domain", "is_primary", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "host"
    verbose_name_plural = "hosts"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ConfirmDeleteForm(forms.Form):
    confirm_slug = forms.CharField(
        label="Workspace address",
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


def _operator_email(request: HttpRequest) -> str:
    """Who the audit log names. admin_view lets only signed-in staff reach the console."""
    return cast(User, request.user).email


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display_links = ("name",)
    list_filter = ("status",)
    search_fields = ("name", "slug", "owner_email", "domains__domain")
    ordering = ("-created_at",)
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "name",
        "slug",
        "status",
        "owner_email",
        "schema_name",
        "created_at",
        "suspended_at",
    )
    readonly_fields = (
        "slug",
        "status",
        "owner_email",
        "schema_name",
        "created_at",
        "suspended_at",
    )
    inlines = [DomainInline]
    actions = ["suspend_selected", "reactivate_selected", "delete_one_with_confirmation"]
    change_form_template = "admin/tenants/tenant/change_form.html"

    # Lists and pages

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return tenant_operator_list()

    def get_list_display(self, request: HttpRequest):
        # The link needs the request's scheme and port, so the column is built per request.
        @admin.display(description="Primary host", ordering="primary_domain")
        def primary_host(tenant: TenantWithPrimaryDomain) -> str:
            if not tenant.primary_domain:
                return "—"
            return format_html(
                '<a href="{}" target="_blank" rel="noopener noreferrer" '
                'title="Open the workspace in a new tab">{} ↗</a>',
                host_url(request, tenant.primary_domain),
                tenant.primary_domain,
            )

        return ("name", "slug", "status_badge", "owner_email", "created_at", primary_host)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, tenant: Tenant) -> str:
        colour = "#b54708" if tenant.is_suspended else "#067647"
        return format_html(
            '<strong style="color:{}">{}</strong>', colour, tenant.get_status_display()
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        tenant = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if tenant is not None:
            domain = tenant.get_primary_domain()
            extra["workspace_url"] = host_url(request, domain.domain) if domain else ""
        return super().change_view(request, object_id, form_url, extra)

    # Suspend / reactivate

    @admin.action(description="Suspend selected workspaces", permissions=["change"])
    def suspend_selected(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        changed = [t for t in queryset if not t.is_suspended]
        for tenant in changed:
            tenant_suspend(tenant=tenant, actor_email=_operator_email(request))
            self.log_change(request, tenant, "Suspended")
        self._report(request, changed, "suspended", "already suspended", len(queryset))

    @admin.action(description="Reactivate selected workspaces", permissions=["change"])
    def reactivate_selected(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        changed = [t for t in queryset if t.is_suspended]
        for tenant in changed:
            tenant_reactivate(tenant=tenant, actor_email=_operator_email(request))
            self.log_change(request, tenant, "Reactivated")
        self._report(request, changed, "reactivated", "already active", len(queryset))

    def _report(self, request, changed, done: str, skipped: str, total: int) -> None:
        if changed:
            names = ", ".join(t.slug for t in changed)
            self.message_user(request, f"{len(changed)} workspace(s) {done}: {names}.")
        if total - len(changed):
            self.message_user(
                request, f"{total - len(changed)} workspace(s) were {skipped}.", messages.INFO
            )

    @admin.action(description="Delete selected workspace…", permissions=["delete"])
    def delete_one_with_confirmation(self, request: HttpRequest, queryset: QuerySet[Tenant]):
        if queryset.count() != 1:
            self.message_user(
                request,
                "Workspaces are deleted one at a time: select exactly one.",
                messages.WARNING,
            )
            return None
        tenant = queryset.get()
        return HttpResponseRedirect(reverse("admin:tenants_tenant_delete", args=[tenant.pk]))

    def get_urls(self):
        own = [
            path(
                "<int:object_id>/suspend/",
                self.admin_site.admin_view(self.suspend_view),
                name="tenants_tenant_suspend",
            ),
            path(
                "<int:object_id>/reactivate/",
                self.admin_site.admin_view(self.reactivate_view),
                name="tenants_tenant_reactivate",
            ),
        ]
        return own + super().get_urls()

    def _tenant_or_404(self, request: HttpRequest, object_id) -> Tenant:
        return get_object_or_404(self.get_queryset(request), pk=object_id)

    def suspend_view(self, request: HttpRequest, object_id) -> HttpResponse:
        return self._status_change(request, object_id, suspend=True)

    def reactivate_view(self, request: HttpRequest, object_id) -> HttpResponse:
        return self._status_change(request, object_id, suspend=False)

    def _status_change(self, request: HttpRequest, object_id, *, suspend: bool) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        tenant = self._tenant_or_404(request, object_id)
        if not self.has_change_permission(request, tenant):
            raise PermissionDenied
        if suspend:
            tenant_suspend(tenant=tenant, actor_email=_operator_email(request))
            self.log_change(request, tenant, "Suspended")
            self.message_user(request, f"{tenant.name} is suspended. Its data is kept.")
        else:
            tenant_reactivate(tenant=tenant, actor_email=_operator_email(request))
            self.log_change(request, tenant, "Reactivated")
            self.message_user(request, f"{tenant.name} is active again.")
        return HttpResponseRedirect(reverse("admin:tenants_tenant_change", args=[tenant.pk]))

    # Delete, with the address typed as confirmation

    def delete_view(self, request: HttpRequest, object_id, extra_context=None) -> HttpResponse:
        tenant = self._tenant_or_404(request, object_id)
        if not self.has_delete_permission(request, tenant):
            raise PermissionDenied
        form = ConfirmDeleteForm(request.POST or None)
        status = 200
        if request.method == "POST" and form.is_valid():
            name = str(tenant)
            try:
                with transaction.atomic():  # the log entry goes only if the workspace goes
                    self.log_deletions(request, Tenant.objects.filter(pk=tenant.pk))
                    tenant_delete(
                        tenant=tenant,
                        confirm_slug=form.cleaned_data["confirm_slug"],
                        actor_email=_operator_email(request),
                    )
            except ValidationError as error:
                form.add_error("confirm_slug", error)
                status = 400
            else:
                self.message_user(
                    request, f"Workspace {name} and all its data were deleted.", messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:tenants_tenant_changelist"))
        elif request.method == "POST":
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": f"Delete workspace {tenant.name}?",
            "subtitle": None,
            "opts": self.opts,
            "tenant": tenant,
            "footprint": tenant_footprint(tenant=tenant),
            "form": form,
            **(extra_context or {}),
        }
        return TemplateResponse(
            request, "admin/tenants/tenant/delete_workspace.html", context, status=status
        )
