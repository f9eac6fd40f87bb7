"""Who may do what in a workspace: the role rules, and the view decorators that apply them.

Every agent-app view is wrapped in `agent_required` or `admin_required`; services call the
`*_check` functions again before writing, so a rule holds whichever door the request came in by.
A refusal raises PermissionDenied with a sentence the agent can read; the decorators turn it into
the 403 page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate, ParamSpec, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.agents.http import AgentRequest
from tenants.agents.models import User

Role = User.Role
P = ParamSpec("P")


def team_manage_check(*, actor: User) -> None:
    """Inviting, revoking and resending invitations, and changing members, is for admins."""
    if not actor.is_admin:
        raise PermissionDenied("Only the owner and admins can manage the team.")


def workspace_manage_check(*, actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only the owner and admins can change workspace settings.")


def invitation_role_check(*, actor: User, role: str) -> None:
    team_manage_check(actor=actor)
    if role == Role.OWNER:
        raise PermissionDenied("A workspace has one owner; invite people as admins or agents.")
    if role == Role.ADMIN and actor.role != Role.OWNER:
        raise PermissionDenied("Only the owner can invite admins.")
    if role not in (Role.ADMIN, Role.AGENT):
        raise PermissionDenied("Unknown role.")


def member_role_change_check(*, actor: User, member: User, role: str) -> None:
    team_manage_check(actor=actor)
    if member.role == Role.OWNER or role == Role.OWNER:
        raise PermissionDenied("The owner's role cannot be changed.")
    if role not in (Role.ADMIN, Role.AGENT):
        raise PermissionDenied("Unknown role.")
    # With the owner excluded, every role change makes or unmakes an admin.
    if actor.role != Role.OWNER:
        raise PermissionDenied("Only the owner can make or remove admins.")


def member_active_change_check(*, actor: User, member: User) -> None:
    """Deactivating and reactivating follow the same rules."""
    team_manage_check(actor=actor)
    if member.role == Role.OWNER:
        raise PermissionDenied("The owner cannot be deactivated.")
    if member.pk == actor.pk:
        raise PermissionDenied("You cannot deactivate yourself.")
    if member.role == Role.ADMIN and actor.role != Role.OWNER:
        raise PermissionDenied("Only the owner can deactivate or reactivate an admin.")


def _allowed(check: Callable[..., None], **kwargs) -> bool:
    try:
        check(**kwargs)
    except PermissionDenied:
        return False
    return True


@dataclass(frozen=True)
class MemberActions:
    """What the team page offers `actor` for one member; the services check again on submit."""

    change_role: bool
    change_active: bool


def member_actions(*, actor: User, member: User) -> MemberActions:
    return MemberActions(
        change_role=_allowed(member_role_change_check, actor=actor, member=member, role=Role.AGENT),
        change_active=_allowed(member_active_change_check, actor=actor, member=member),
    )


def invitation_roles_for(*, actor: User) -> list[tuple[str, str]]:
    return [
        (value, label)
        for value, label in Role.choices
        if _allowed(invitation_role_check, actor=actor, role=value)
    ]


def forbidden(request: HttpRequest, message: str = "") -> HttpResponse:
    return render(
        request,
        "agents/forbidden.html",
        {"message": message or "You don't have access to this page."},
        status=403,
    )


def agent_required(
    view: Callable[Concatenate[AgentRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Signed in as an agent of this workspace; a rule refusal inside the view becomes a 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # Sessions are per schema, so a signed-in user here is an agent of this workspace.
        agent_request = cast(AgentRequest, request)
        try:
            return view(agent_request, *args, **kwargs)
        except PermissionDenied as exc:
            return forbidden(request, str(exc))

    return wrapper


def admin_required(
    view: Callable[Concatenate[AgentRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Owner or admin only. Agents get the 403 page before the view runs."""

    @wraps(view)
    def checked(request: AgentRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_admin:
            return forbidden(request, "Only the owner and admins can open this page.")
        return view(request, *args, **kwargs)

    return agent_required(checked)
