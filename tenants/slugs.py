"""What a workspace address may be: a DNS label that is also a valid PostgreSQL schema name."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")

# Hosts we serve ourselves or may want to, plus names that would confuse people or PostgreSQL.
RESERVED_SLUGS = frozenset(
    [
        "www",
        "api",
        "admin",
        "static",
        "media",
        "public",
        "app",
        "apps",
        "assets",
        "auth",
        "account",
        "accounts",
        "login",
        "logout",
        "signup",
        "register",
        "mail",
        "email",
        "smtp",
        "imap",
        "pop",
        "pop3",
        "ftp",
        "help",
        "support",
        "status",
        "docs",
        "blog",
        "dev",
        "test",
        "staging",
        "demo-template",
        "template",
        "templates",
        "root",
        "system",
        "internal",
        "localhost",
        "dashboard",
        "billing",
        "cdn",
        "ws",
        "wss",
        "widget",
        "chat",
        "inbox",
        "default",
        "information-schema",
        "postgres",
        "postgresql",
        "healthz",
        "metrics",
    ]
)


def schema_name_for_slug(slug: str) -> str:
    # Slugs use hyphens (DNS) and never underscores, so this mapping cannot collide.
    return slug.replace("-", "_")


def slug_validate(slug: str) -> None:
    """Raise ValidationError with a message a merchant can act on."""
    if not slug:
        raise ValidationError("Choose a workspace address.", code="required")
    if slug != slug.lower():
        raise ValidationError("Use lowercase letters only.", code="invalid")
    if not SLUG_RE.match(slug):
        raise ValidationError(
            "Use 3–40 characters: lowercase letters, digits and hyphens, starting with a "
            "letter and not ending with a hyphen.",
            code="invalid",
        )
    if "--" in slug:
        raise ValidationError("Hyphens cannot be doubled.", code="invalid")
    if slug in RESERVED_SLUGS or slug.startswith(("pg-", "xn--")):
        raise ValidationError("This address is reserved. Please choose another.", code="reserved")
