"""Writes on agent accounts. Views and commands call these; nothing else creates users."""

from __future__ import annotations

from allauth.account.models import EmailAddress

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
