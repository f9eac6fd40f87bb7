"""The page an invitee lands on from the email: set a name and password, and they are in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tenants.agents import services
from tenants.agents.forms import InvitationAcceptForm
from tenants.agents.selectors import InvitationUnavailable, invitation_for_token
from tenants.http import TenantRequest

_UNAVAILABLE_STATUS = {"unknown": 404, "expired": 410, "accepted": 410, "revoked": 410}


def _unavailable(request: HttpRequest, exc: InvitationUnavailable) -> HttpResponse:
    return render(
        request,
        "agents/invitation_unavailable.html",
        {"reason": exc.reason},
        status=_UNAVAILABLE_STATUS[exc.reason],
    )


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request: TenantRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_for_token(token=token)
    except InvitationUnavailable as exc:
        return _unavailable(request, exc)

    form = InvitationAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                name=form.cleaned_data["name"],
                password=form.cleaned_data["password1"],
            )
        except InvitationUnavailable as exc:
            return _unavailable(request, exc)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            login(request, user, backend="allauth.account.auth_backends.AuthenticationBackend")
            messages.success(request, f"Welcome to {request.tenant.name}, {user.get_short_name()}!")
            return redirect("dashboard")
    return render(
        request,
        "agents/invitation_accept.html",
        {"invitation": invitation, "form": form},
        status=400 if form.is_bound else 200,
    )
