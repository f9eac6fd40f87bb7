"""The agent's own profile page and the header's status switch."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from tenants.agents import services
from tenants.agents.forms import ProfileForm, StatusForm
from tenants.agents.http import AgentRequest
from tenants.agents.permissions import agent_required


@require_http_methods(["GET", "POST"])
@agent_required
def profile(request: AgentRequest) -> HttpResponse:
    user = request.user
    initial = {"name": user.name, "language": user.language, "timezone": user.timezone}
    form = ProfileForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.agent_profile_update(
                agent=user,
                name=data["name"],
                language=data["language"],
                timezone=data["timezone"],
                avatar=data["avatar"],
                avatar_remove=data["avatar_remove"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Your profile was saved.")
            return redirect("profile")
    return render(
        request, "agents/profile.html", {"form": form}, status=400 if form.errors else 200
    )


@require_POST
@agent_required
def agent_status_set(request: AgentRequest) -> HttpResponse:
    form = StatusForm(request.POST)
    if form.is_valid():
        services.agent_status_set(agent=request.user, status=form.cleaned_data["status"])
    else:
        messages.error(request, "Choose online, away or offline.")
    back = request.POST.get("next") or request.headers.get("referer", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "dashboard"
    return redirect(back)
