"""Settings → Email (admins): the inbound address and how to forward to it, the support address
replies go out from, the acknowledgement auto-reply, and the IMAP mailbox the worker polls."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from chat.email.ack_templates import PLACEHOLDERS
from chat.email.references import workspace_address
from chat.forms_email import EmailSettingsForm, ImapMailboxForm, ack_field_names
from chat.models import EmailSettings, ImapMailbox
from chat.selectors.email_settings import email_settings_get, imap_mailbox_get
from chat.services.email_settings import (
    ImapTestResult,
    ack_languages,
    email_settings_update,
    imap_mailbox_delete,
    imap_mailbox_save,
    imap_mailbox_test,
)
from helpdesk.form_errors import service_errors_to_form
from tenants.agents.http import AgentRequest
from tenants.agents.permissions import admin_required
from tenants.workspace.selectors import workspace_settings_get

PLACEHOLDER_HELP = {
    "ticket_number": "the ticket's number, e.g. 1001",
    "subject": "the subject of the customer's email",
    "customer_name": "the customer's name, empty when their email doesn't give one",
}


def _settings_form(request: AgentRequest, data: Any = None) -> EmailSettingsForm:
    row = email_settings_get()
    initial: dict[str, Any] = {
        "support_address": row.support_address,
        "support_name": row.support_name,
        "ack_enabled": row.ack_enabled,
    }
    for code, template in (row.ack_templates or {}).items():
        if isinstance(template, dict):
            subject_name, body_name = ack_field_names(code)
            initial[subject_name] = template.get("subject", "")
            initial[body_name] = template.get("body", "")
    return EmailSettingsForm(
        data,
        initial=initial,
        inbound_address=workspace_address(request.tenant.slug),
        workspace_name=request.tenant.name,
    )


def _imap_form(mailbox: ImapMailbox | None, data: Any = None) -> ImapMailboxForm:
    initial = (
        {
            "host": mailbox.host,
            "port": mailbox.port,
            "use_ssl": mailbox.use_ssl,
            "username": mailbox.username,
            "folder": mailbox.folder,
            "enabled": mailbox.enabled,
        }
        if mailbox is not None
        else None
    )
    return ImapMailboxForm(data, initial=initial, has_password=mailbox is not None)


def _ack_languages(form: EmailSettingsForm, row: EmailSettings) -> list[dict[str, Any]]:
    saved = row.ack_templates or {}
    result = []
    for code, name in ack_languages().items():
        subject_name, body_name = ack_field_names(code)
        subject, body = form[subject_name], form[body_name]
        result.append(
            {
                "code": code,
                "name": name,
                "subject": subject,
                "body": body,
                "customised": code in saved,
                "has_errors": bool(subject.errors or body.errors),
            }
        )
    return result


def _mailbox_state(mailbox: ImapMailbox | None) -> str:
    """What the status line says: new (never checked), ok, warning (checked, with a note),
    error (the last check failed) or paused."""
    if mailbox is None:
        return ""
    if not mailbox.enabled:
        return "paused"
    if mailbox.last_error:
        succeeded_since = (
            mailbox.last_success_at is not None
            and mailbox.last_error_at is not None
            and mailbox.last_success_at >= mailbox.last_error_at
        )
        return "warning" if succeeded_since else "error"
    return "ok" if mailbox.last_success_at else "new"


def _page(
    request: AgentRequest,
    *,
    settings_form: EmailSettingsForm | None = None,
    settings_errors: list[str] | None = None,
    imap_form: ImapMailboxForm | None = None,
    imap_errors: list[str] | None = None,
    test_result: ImapTestResult | None = None,
    confirm_remove: bool = False,
    status: int = 200,
) -> HttpResponse:
    row = email_settings_get()
    mailbox = imap_mailbox_get()
    settings_form = settings_form or _settings_form(request)
    languages = _ack_languages(settings_form, row)
    default_language = workspace_settings_get().default_language
    context = {
        "row": row,
        "mailbox": mailbox,
        "mailbox_state": _mailbox_state(mailbox),
        "inbound_address": workspace_address(request.tenant.slug),
        "settings_form": settings_form,
        "settings_errors": settings_errors or [],
        "ack_languages": languages,
        "ack_selected": next(
            (lang["code"] for lang in languages if lang["has_errors"]),
            default_language if default_language in ack_languages() else languages[0]["code"],
        ),
        "default_language_name": ack_languages().get(default_language, default_language),
        "placeholders": [("{" + name + "}", PLACEHOLDER_HELP[name]) for name in PLACEHOLDERS],
        "imap_form": imap_form or _imap_form(mailbox),
        "imap_errors": imap_errors or [],
        "test_result": test_result,
        "confirm_remove": confirm_remove and mailbox is not None,
    }
    response = render(request, "chat/settings/email.html", context, status=status)
    add_never_cache_headers(response)
    response["Cache-Control"] += ", no-store"
    return response


@require_http_methods(["GET", "POST"])
@admin_required
def email_settings(request: AgentRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    form = _settings_form(request, request.POST)
    errors: list[str] = []
    if form.is_valid():
        data = form.cleaned_data
        try:
            email_settings_update(
                actor=request.user,
                support_address=data["support_address"],
                support_name=data["support_name"],
                ack_enabled=data["ack_enabled"],
                ack_templates=form.ack_templates(),
            )
        except ValidationError as exc:
            errors = service_errors_to_form(form, exc)
        else:
            messages.success(request, "Email settings saved.")
            return redirect("email_settings")
    return _page(request, settings_form=form, settings_errors=errors, status=400)


@require_POST
@admin_required
def email_settings_imap(request: AgentRequest) -> HttpResponse:
    form = _imap_form(imap_mailbox_get(), request.POST)
    errors: list[str] = []
    if form.is_valid():
        data = form.cleaned_data
        try:
            mailbox = imap_mailbox_save(
                actor=request.user,
                host=data["host"],
                port=data["port"],
                use_ssl=data["use_ssl"],
                username=data["username"],
                password=data["password"],
                folder=data["folder"],
                enabled=data["enabled"],
            )
        except ValidationError as exc:
            errors = service_errors_to_form(form, exc)
        else:
            messages.success(
                request,
                f"Mailbox {mailbox.username} saved. "
                + (
                    "New mail in it will appear in the inbox within a minute."
                    if mailbox.enabled
                    else "It won't be checked until you turn checking on."
                ),
            )
            return redirect(reverse("email_settings") + "#imap")
    return _page(request, imap_form=form, imap_errors=errors, status=400)


@require_POST
@admin_required
def email_settings_imap_test(request: AgentRequest) -> HttpResponse:
    return _page(request, test_result=imap_mailbox_test(actor=request.user))


@require_http_methods(["GET", "POST"])
@admin_required
def email_settings_imap_remove(request: AgentRequest) -> HttpResponse:
    """GET asks for confirmation; POST removes the mailbox."""
    if request.method == "GET":
        return _page(request, confirm_remove=True)
    if imap_mailbox_delete(actor=request.user):
        messages.success(
            request, "Mailbox removed. Its password is deleted; tickets from it are kept."
        )
    return redirect("email_settings")
