"""The team page: members, open invitations, and the admin actions on both."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tenants.agents import services
from tenants.agents.forms import InvitationCreateForm, RoleChangeForm
from tenants.agents.http import AgentRequest
from tenants.agents.mail import request_origin
from tenants.agents.permissions import (
    admin_required,
    agent_required,
    invitation_roles_for,
    member_actions,
)
from tenants.agents.selectors import (
    invitation_access,
    invitation_list_open,
    member_access,
    member_list,
)


def _team_page(
    request: AgentRequest, *, invite_form: InvitationCreateForm | None = None, status: int = 200
) -> HttpResponse:
    actor = request.user
    members = list(member_list())
    rows = [(member, member_actions(actor=actor, member=member)) for member in members]
    roles = invitation_roles_for(actor=actor)
    context = {
        "rows": rows,
        "can_manage": actor.is_admin,
        "invitations": list(invitation_list_open()) if actor.is_admin else [],
        "invite_form": invite_form or (InvitationCreateForm(roles=roles) if roles else None),
        # Resending re-issues the role, so it follows the same rule as inviting.
        "resendable_roles": [value for value, _ in roles],
    }
    return render(request, "agents/team.html", context, status=status)


@agent_required
def team_list(request: AgentRequest) -> HttpResponse:
    return _team_page(request)


@require_POST
@admin_required
def team_invite(request: AgentRequest) -> HttpResponse:
    form = InvitationCreateForm(request.POST, roles=invitation_roles_for(actor=request.user))
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                actor=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                link_origin=request_origin(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("team_list")
    return _team_page(request, invite_form=form, status=400)


@require_POST
@admin_required
def invitation_resend(request: AgentRequest, invitation_id: int) -> HttpResponse:
    invitation = invitation_access(actor=request.user, invitation_id=invitation_id)
    try:
        services.invitation_resend(
            actor=request.user, invitation=invitation, link_origin=request_origin(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"A new invitation link was sent to {invitation.email}.")
    return redirect("team_list")


@require_POST
@admin_required
def invitation_revoke(request: AgentRequest, invitation_id: int) -> HttpResponse:
    invitation = invitation_access(actor=request.user, invitation_id=invitation_id)
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The invitation for {invitation.email} was revoked.")
    return redirect("team_list")


@require_POST
@admin_required
def member_role_change(request: AgentRequest, member_id: int) -> HttpResponse:
    member = member_access(actor=request.user, member_id=member_id)
    form = RoleChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose admin or agent.")
        return redirect("team_list")
    services.agent_role_change(actor=request.user, agent=member, role=form.cleaned_data["role"])
    messages.success(request, f"{member} is now {member.get_role_display().lower()}.")
    return redirect("team_list")


@require_POST
@admin_required
def member_deactivate(request: AgentRequest, member_id: int) -> HttpResponse:
    member = member_access(actor=request.user, member_id=member_id)
    services.agent_deactivate(actor=request.user, agent=member)
    messages.success(request, f"{member} was deactivated and signed out.")
    return redirect("team_list")


@require_POST
@admin_required
def member_reactivate(request: AgentRequest, member_id: int) -> HttpResponse:
    member = member_access(actor=request.user, member_id=member_id)
    services.agent_reactivate(actor=request.user, agent=member)
    messages.success(request, f"{member} can sign in again.")
    return redirect("team_list")
