from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpResponse
from django.shortcuts import render

from chat.selectors.conversations import inbox_counts
from tenants.agents.http import AgentRequest
from tenants.agents.permissions import agent_required
from tenants.agents.selectors import team_summary


@agent_required
def dashboard(request: AgentRequest) -> HttpResponse:
    user = request.user
    email = EmailAddress.objects.filter(user=user, primary=True).first()
    return render(
        request,
        "app/dashboard.html",
        {
            "summary": team_summary(),
            "inbox": inbox_counts(actor=user, status="open"),
            "mfa_enabled": is_mfa_enabled(user),
            "email_unverified": email is not None and not email.verified,
            "workspace_host": request.get_host(),
        },
    )
