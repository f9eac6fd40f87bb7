"""Invitations: the only way into a workspace after its owner.

The link's token is 32 random bytes shown once, in the email; only its SHA-256 is stored, so
whoever reads the database cannot join. A link works once and for INVITATION_TTL. Resending
issues a new token, so an earlier email stops working.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tenants.agents.mail import email_enqueue, one_line, workspace_from_email
from tenants.agents.models import Invitation, User
from tenants.agents.permissions import invitation_role_check, team_manage_check
from tenants.agents.selectors import invitation_for_token, token_hash
from tenants.connection import connection_workspace

INVITATION_TTL = timedelta(days=7)


def _token_issue() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def _email_is_member(email: str) -> bool:
    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email, verified=True).exists()
    )


def invitation_create(*, actor: User, email: str, role: str, link_origin: str) -> Invitation:
    """Invite `email` as `role` and mail them the link (after commit).

    link_origin is the scheme and host the link should use, e.g. "https://acme.example.com".
    """
    invitation_role_check(actor=actor, role=role)
    email = email.strip().lower()
    validate_email(email)
    if _email_is_member(email):
        raise ValidationError(
            {"email": f"{email} is already a member of this workspace."}, code="member"
        )
    pending = Invitation.objects.filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    if pending.filter(expires_at__gt=timezone.now()).exists():
        raise ValidationError(
            {"email": f"{email} is already invited. Resend the invitation below instead."},
            code="invited",
        )
    token, digest = _token_issue()
    now = timezone.now()
    with transaction.atomic():
        # An expired, never-used invitation for the same address is replaced, not duplicated.
        pending.update(revoked_at=now)
        invitation = Invitation.objects.create(
            email=email,
            role=role,
            token_hash=digest,
            invited_by=actor,
            created_at=now,
            expires_at=now + INVITATION_TTL,
        )
        _invitation_mail(invitation=invitation, token=token, link_origin=link_origin)
    return invitation


def invitation_resend(*, actor: User, invitation: Invitation, link_origin: str) -> Invitation:
    """A new link, valid for another INVITATION_TTL; the previous link stops working."""
    invitation_role_check(actor=actor, role=invitation.role)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise ValidationError("This invitation has already been accepted.", code="accepted")
        if invitation.revoked_at is not None:
            raise ValidationError("This invitation was revoked.", code="revoked")
        token, invitation.token_hash = _token_issue()
        invitation.expires_at = timezone.now() + INVITATION_TTL
        invitation.invited_by = actor
        invitation.save(update_fields=["token_hash", "expires_at", "invited_by"])
        _invitation_mail(invitation=invitation, token=token, link_origin=link_origin)
    return invitation


def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    team_manage_check(actor=actor)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise ValidationError("This invitation has already been accepted.", code="accepted")
        if invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_accept(*, token: str, name: str, password: str) -> User:
    """Create the invitee's account (email verified: they proved it by opening the link)."""
    from tenants.workspace.selectors import workspace_settings_get

    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Enter your name."})
    with transaction.atomic():
        invitation = invitation_for_token(token=token, lock=True)
        if _email_is_member(invitation.email):
            raise ValidationError(
                f"{invitation.email} already has an account here. Sign in instead.",
                code="member",
            )
        defaults = workspace_settings_get()
        user = User(
            email=invitation.email,
            name=name,
            role=invitation.role,
            language=defaults.default_language,
            timezone=defaults.timezone,
        )
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            raise ValidationError({"password1": exc.messages}) from exc
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:  # the same address joined in a parallel request
            raise ValidationError(
                f"{invitation.email} already has an account here. Sign in instead.",
                code="member",
            ) from exc
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return user


def _invitation_mail(*, invitation: Invitation, token: str, link_origin: str) -> None:
    tenant = connection_workspace()
    context = {
        "workspace_name": tenant.name,
        "inviter_name": invitation.invited_by.name if invitation.invited_by else "",
        "role": invitation.get_role_display(),
        "accept_url": link_origin.rstrip("/") + reverse("invitation_accept", args=[token]),
        "expires_at": invitation.expires_at,
        "email": invitation.email,
    }
    subject = render_to_string("agents/email/invitation_subject.txt", context)
    body = render_to_string("agents/email/invitation_message.txt", context)
    email_enqueue(
        message=EmailMessage(
            subject=one_line(subject),
            body=body,
            from_email=workspace_from_email(tenant.name),
            to=[invitation.email],
        )
    )
