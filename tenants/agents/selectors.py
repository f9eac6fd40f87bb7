"""Reads for the team pages and the dashboard. The schema is the tenant boundary: every query
here only sees the current workspace's rows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from helpdesk.object_ids import object_id_parse
from tenants.agents.models import Invitation, User


class InvitationUnavailable(Exception):
    """The token matches no invitation that can still be accepted."""

    def __init__(self, reason: str, invitation: Invitation | None = None):
        super().__init__(reason)
        self.reason = reason  # "unknown", "expired", "accepted" or "revoked"
        self.invitation = invitation


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _id(value: int | str) -> int:
    pk = object_id_parse(value)
    if pk is None:
        raise Http404
    return pk


def member_list() -> QuerySet[User]:
    """Owner first, then admins, then agents; deactivated members last in each group."""
    role_order = Case(
        When(role=User.Role.OWNER, then=Value(0)),
        When(role=User.Role.ADMIN, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return User.objects.annotate(role_order=role_order).order_by(
        "-is_active", "role_order", "name", "email", "pk"
    )


def member_access(*, actor: User, member_id: int | str) -> User:
    """A member of the actor's workspace; any other id (missing, or another workspace's, which
    cannot exist in this schema) is the same 404."""
    try:
        return User.objects.get(pk=_id(member_id))
    except User.DoesNotExist:
        raise Http404 from None


def invitation_list_open() -> QuerySet[Invitation]:
    """Invitations nobody has accepted or revoked, expired ones included (they can be resent)."""
    return (
        Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("-expires_at", "pk")
    )


def invitation_access(*, actor: User, invitation_id: int | str) -> Invitation:
    try:
        return Invitation.objects.select_related("invited_by").get(pk=_id(invitation_id))
    except Invitation.DoesNotExist:
        raise Http404 from None


def invitation_for_token(*, token: str, lock: bool = False) -> Invitation:
    """The invitation a link points at, if it can still be accepted; else InvitationUnavailable."""
    queryset = Invitation.objects.select_related("invited_by")
    if lock:
        queryset = Invitation.objects.select_for_update()
    invitation = queryset.filter(token_hash=token_hash(token)).first() if token else None
    if invitation is None:
        raise InvitationUnavailable("unknown")
    if invitation.accepted_at is not None:
        raise InvitationUnavailable("accepted", invitation)
    if invitation.revoked_at is not None:
        raise InvitationUnavailable("revoked", invitation)
    if invitation.expires_at <= timezone.now():
        raise InvitationUnavailable("expired", invitation)
    return invitation


@dataclass(frozen=True)
class TeamSummary:
    active_members: int
    deactivated_members: int
    pending_invitations: int


def team_summary() -> TeamSummary:
    counts = User.objects.aggregate(
        active=Count("pk", filter=Q(is_active=True)),
        inactive=Count("pk", filter=Q(is_active=False)),
    )
    pending = Invitation.objects.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).count()
    return TeamSummary(
        active_members=counts["active"],
        deactivated_members=counts["inactive"],
        pending_invitations=pending,
    )
