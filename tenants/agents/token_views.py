"""The agent's API token page: list, create (secret shown once), revoke after confirmation."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from tenants.agents.http import AgentRequest
from tenants.agents.models import ApiToken
from tenants.agents.permissions import agent_required
from tenants.agents.tokens import (
    NAME_MAX_LENGTH,
    api_token_access,
    api_token_create,
    api_token_list,
    api_token_revoke,
)


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=NAME_MAX_LENGTH,
        help_text="What will use it, e.g. “Shop sync” or “CI”.",
        error_messages={"required": "Give the token a name, e.g. what will use it."},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "placeholder": "e.g. Shop sync",
                "aria-describedby": "name-help",
            }
        ),
    )


def _page(request: AgentRequest, **context) -> HttpResponse:
    context.setdefault("form", ApiTokenCreateForm())
    context["tokens"] = api_token_list(actor=request.user)
    context["api_base"] = request.build_absolute_uri("/api/v1/")
    response = render(request, "agents/api_tokens.html", context)
    # The page may carry a freshly issued secret: never keep it in any cache or history.
    add_never_cache_headers(response)
    response["Cache-Control"] += ", no-store"
    return response


@agent_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: AgentRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    form = ApiTokenCreateForm(request.POST)
    if form.is_valid():
        try:
            issued = api_token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error("name", exc)
        else:
            # Rendered straight from the POST rather than redirected, so the secret never sits
            # in a session or a URL; a reload asks before posting again.
            return _page(request, issued=issued)
    return _page(request, form=form)


@agent_required
@require_http_methods(["GET", "POST"])
def api_token_revoke_view(request: AgentRequest, token_id: int) -> HttpResponse:
    try:
        token = api_token_access(actor=request.user, token_id=token_id)
    except ApiToken.DoesNotExist:
        raise Http404("No such token.") from None
    if request.method == "GET":
        if token.revoked_at is not None:
            return redirect("api_tokens")
        return _page(request, confirm_revoke=token)
    api_token_revoke(actor=request.user, token_id=token.pk)
    messages.success(request, f"Token “{token.name}” revoked. Anything using it is now refused.")
    return redirect("api_tokens")
