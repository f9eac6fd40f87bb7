"""Writes on one agent's own account: creating the owner, profile, presence status."""

from __future__ import annotations

import zoneinfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError

from tenants.agents.images import CleanImage, stored_image_delete_on_commit
from tenants.agents.models import User


def agent_create_owner(
    *, email: str, name: str, password: str | None, timezone: str = "UTC", language: str = "en"
) -> User:
    """The first account of a new workspace. Must run inside the workspace's schema."""
    user = User.objects.create_user(
        email=email,
        password=password,
        name=name.strip(),
        role=User.Role.OWNER,
        timezone=timezone,
        language=language,
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    return user


def timezone_validate(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError("Choose a timezone from the list.", code="invalid_choice")


def language_validate(value: str) -> None:
    if value not in dict(settings.LANGUAGES):
        raise ValidationError("Choose a language from the list.", code="invalid_choice")


def agent_profile_update(
    *,
    agent: User,
    name: str | None = None,
    language: str | None = None,
    timezone: str | None = None,
    status: str | None = None,
    avatar: CleanImage | None = None,
    avatar_remove: bool = False,
) -> User:
    """Change the fields given (None leaves one as it is). `avatar` must come from
    tenants.agents.images.image_upload_clean, which re-encodes it and names it."""
    changed: list[str] = []
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise ValidationError({"name": "Enter your name."})
        agent.name = name
        changed.append("name")
    if language is not None:
        language_validate(language)
        agent.language = language
        changed.append("language")
    if timezone is not None:
        timezone_validate(timezone)
        agent.timezone = timezone
        changed.append("timezone")
    if status is not None:
        if status not in User.Status.values:
            raise ValidationError({"status": "Unknown status."})
        agent.status = status
        changed.append("status")
    old_avatar = agent.avatar.name if agent.avatar else ""
    if avatar is not None:
        agent.avatar.save(avatar.name, avatar, save=False)
        changed.append("avatar")
    elif avatar_remove and old_avatar:
        agent.avatar = ""
        changed.append("avatar")
    if changed:
        agent.save(update_fields=changed)
    if "avatar" in changed and old_avatar:
        stored_image_delete_on_commit(storage=agent.avatar.storage, name=old_avatar)
    return agent


def agent_status_set(*, agent: User, status: str) -> User:
    return agent_profile_update(agent=agent, status=status)
