"""Settings → Chat widget (admins) and Settings → Canned responses (agents read, admins manage),
plus the composer's canned-response lookup."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods

from chat.forms import (
    BaseCustomFieldFormSet,
    CannedResponseForm,
    CustomFieldFormSet,
    WidgetSettingsForm,
)
from chat.identity import identity_signature
from chat.models import CannedResponse, WidgetSettings
from chat.selectors.canned import (
    canned_response_access,
    canned_response_list,
    canned_response_search,
)
from chat.selectors.widget import widget_settings_get
from chat.services.canned import (
    canned_response_create,
    canned_response_delete,
    canned_response_update,
)
from chat.services.widget_settings import widget_secret_rotate, widget_settings_update
from helpdesk.form_errors import service_errors_to_form
from tenants.agents.http import AgentRequest
from tenants.agents.permissions import admin_required, agent_required
from tenants.hosts import host_url

# A worked example on the page, so a merchant can check their server code gives the same hex.
EXAMPLE_SECRET = "example-secret"
EXAMPLE_TIMESTAMP = 1764000000
EXAMPLE_ID, EXAMPLE_EMAIL, EXAMPLE_NAME = "42", "ana@example.com", "Ana"


# ---- Chat widget ----


def _widget_initial(row: WidgetSettings) -> dict[str, Any]:
    return {
        "enabled": row.enabled,
        "brand_color": row.brand_color,
        "position": row.position,
        "greeting": row.greeting,
        "ask_name": row.ask_name,
        "ask_email": row.ask_email,
        "reply_time_minutes": row.reply_time_minutes,
        "allowed_domains": "\n".join(row.allowed_domains or []),
        "language": row.language,
    }


def _widget_page(
    request: AgentRequest,
    *,
    form: WidgetSettingsForm | None = None,
    fields: BaseCustomFieldFormSet | None = None,
    field_errors: list[str] | None = None,
    confirm_rotate: bool = False,
    status: int = 200,
) -> HttpResponse:
    row = widget_settings_get()
    if form is None:
        form = WidgetSettingsForm(
            initial=_widget_initial(row), current_reply_time=row.reply_time_minutes
        )
    if fields is None:
        fields = cast(
            BaseCustomFieldFormSet,
            CustomFieldFormSet(prefix="fields", initial=list(row.custom_fields or [])),
        )
    domain = request.tenant.get_primary_domain()
    host = domain.domain if domain is not None else request.get_host().split(":")[0]
    widget_url = host_url(request, host, "/widget.js")
    reveal = request.GET.get("reveal") == "1"
    secret = row.identity_secret
    context = {
        "form": form,
        "fields": fields,
        "field_errors": field_errors or [],
        "row": row,
        "widget_url": widget_url,
        "widget_origin": host_url(request, host, ""),
        "snippet": f'<script src="{widget_url}" async></script>',
        "secret_revealed": reveal,
        "secret_masked": "•" * 24 + secret[-4:],
        "confirm_rotate": confirm_rotate,
        "example": {
            "secret": EXAMPLE_SECRET,
            "timestamp": EXAMPLE_TIMESTAMP,
            "id": EXAMPLE_ID,
            "email": EXAMPLE_EMAIL,
            "name": EXAMPLE_NAME,
            "signature": identity_signature(
                secret=EXAMPLE_SECRET,
                timestamp=EXAMPLE_TIMESTAMP,
                external_id=EXAMPLE_ID,
                email=EXAMPLE_EMAIL,
                name=EXAMPLE_NAME,
            ),
        },
    }
    response = render(request, "chat/settings/widget.html", context, status=status)
    # The page can carry the identity secret: keep it out of every cache and the history.
    add_never_cache_headers(response)
    response["Cache-Control"] += ", no-store"
    return response


@require_http_methods(["GET", "POST"])
@admin_required
def chat_widget_settings(request: AgentRequest) -> HttpResponse:
    if request.method == "GET":
        return _widget_page(request)
    row = widget_settings_get()
    form = WidgetSettingsForm(request.POST, current_reply_time=row.reply_time_minutes)
    fields = cast(BaseCustomFieldFormSet, CustomFieldFormSet(request.POST, prefix="fields"))
    field_errors: list[str] = []
    if form.is_valid() and fields.is_valid():
        data = form.cleaned_data
        try:
            widget_settings_update(
                actor=request.user,
                enabled=data["enabled"],
                brand_color=data["brand_color"],
                position=data["position"],
                greeting=data["greeting"],
                ask_name=data["ask_name"],
                ask_email=data["ask_email"],
                custom_fields=fields.specs(),
                reply_time_minutes=data["reply_time_minutes"],
                allowed_domains=data["allowed_domains"],
                language=data["language"],
            )
        except ValidationError as exc:
            field_errors = service_errors_to_form(form, exc)
        else:
            messages.success(request, "Chat widget settings saved.")
            return redirect("chat_widget_settings")
    field_errors += [str(error) for error in fields.non_form_errors()]
    return _widget_page(request, form=form, fields=fields, field_errors=field_errors, status=400)


@require_http_methods(["GET", "POST"])
@admin_required
def chat_widget_secret_rotate(request: AgentRequest) -> HttpResponse:
    """GET asks for confirmation; POST replaces the secret and shows the new one."""
    if request.method == "GET":
        return _widget_page(request, confirm_rotate=True)
    widget_secret_rotate(actor=request.user)
    messages.success(
        request,
        "New identity secret created. The old one no longer works: update your store's server now.",
    )
    return redirect(reverse("chat_widget_settings") + "?reveal=1#identity")


# ---- Canned responses ----


def _canned_list_page(
    request: AgentRequest,
    *,
    confirm_delete: CannedResponse | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "responses": list(canned_response_list()),
        "can_manage": request.user.is_admin,
        "confirm_delete": confirm_delete,
    }
    return render(request, "chat/settings/canned_responses.html", context, status=status)


def _canned_form_page(
    request: AgentRequest,
    *,
    form: CannedResponseForm,
    canned_response: CannedResponse | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "canned_response": canned_response, "errors": errors or []}
    return render(request, "chat/settings/canned_response_form.html", context, status=status)


@require_GET
@agent_required
def canned_response_list_view(request: AgentRequest) -> HttpResponse:
    return _canned_list_page(request)


@require_http_methods(["GET", "POST"])
@admin_required
def canned_response_create_view(request: AgentRequest) -> HttpResponse:
    if request.method == "GET":
        return _canned_form_page(request, form=CannedResponseForm())
    form = CannedResponseForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            created = canned_response_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors = service_errors_to_form(form, exc)
        else:
            messages.success(request, f"Canned response /{created.shortcut} created.")
            return redirect("canned_response_list")
    return _canned_form_page(request, form=form, errors=errors, status=400)


@require_http_methods(["GET", "POST"])
@admin_required
def canned_response_edit_view(request: AgentRequest, canned_response_id: int) -> HttpResponse:
    canned = canned_response_access(actor=request.user, canned_response_id=canned_response_id)
    if request.method == "GET":
        form = CannedResponseForm(
            initial={"shortcut": canned.shortcut, "title": canned.title, "body": canned.body}
        )
        return _canned_form_page(request, form=form, canned_response=canned)
    form = CannedResponseForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            canned_response_update(actor=request.user, canned_response=canned, **form.cleaned_data)
        except ValidationError as exc:
            errors = service_errors_to_form(form, exc)
        else:
            messages.success(request, f"Canned response /{canned.shortcut} saved.")
            return redirect("canned_response_list")
    return _canned_form_page(request, form=form, canned_response=canned, errors=errors, status=400)


@require_http_methods(["GET", "POST"])
@admin_required
def canned_response_delete_view(request: AgentRequest, canned_response_id: int) -> HttpResponse:
    """GET asks for confirmation on the list page; POST deletes."""
    canned = canned_response_access(actor=request.user, canned_response_id=canned_response_id)
    if request.method == "GET":
        return _canned_list_page(request, confirm_delete=canned)
    canned_response_delete(actor=request.user, canned_response=canned)
    messages.success(request, f"Canned response /{canned.shortcut} deleted.")
    return redirect("canned_response_list")


@require_GET
@agent_required
def canned_response_search_view(request: AgentRequest) -> JsonResponse:
    """For the inbox composer's "/" menu: [{id, shortcut, title, body}], at most 20."""
    found = canned_response_search(query=request.GET.get("q", ""))
    response = JsonResponse(
        [
            {"id": item.pk, "shortcut": item.shortcut, "title": item.title, "body": item.body}
            for item in found
        ],
        safe=False,
    )
    add_never_cache_headers(response)
    return response
