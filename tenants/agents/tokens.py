"""Personal API tokens: creating, listing, revoking, and turning a presented token into an agent.

A token reads `hd_<prefix>_<secret>`. Only the SHA-256 of the whole string is stored, so a
database leak gives nobody a working token; the prefix is kept in clear so the agent can tell
their tokens apart. Tokens live in the workspace's schema like the agents themselves, so a token
is only ever looked up in the schema of the host it was sent to.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from helpdesk.object_ids import object_id_parse
from tenants.agents.models import ApiToken, User
from tenants.connection import connection

TOKEN_SCHEME = "hd"
PREFIX_LENGTH = 8
_PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# 32 random bytes: far beyond guessing, so failed attempts need no lockout of their own.
SECRET_BYTES = 32
# A CharField always has a max_length; the stubs only know get_field() returns some field.
NAME_MAX_LENGTH = cast(int, ApiToken._meta.get_field("name").max_length)
ACTIVE_TOKENS_PER_AGENT = 25
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the whole token string; exists only in this object, never stored


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _token_parse(raw: str) -> str | None:
    """The prefix of a well-formed token, or None. Cheap checks before touching the database."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_SCHEME:
        return None
    prefix, secret = parts[1], parts[2]
    if len(prefix) != PREFIX_LENGTH or any(c not in _PREFIX_ALPHABET for c in prefix):
        return None
    if not 20 <= len(secret) <= 100:
        return None
    return prefix


def api_token_name_clean(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the token a name, e.g. what will use it.", code="required")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(f"Use at most {NAME_MAX_LENGTH} characters.", code="max_length")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise ValidationError("The name cannot contain control characters.", code="invalid")
    return name


# ---- Writes -------------------------------------------------------------------------------


def api_token_create(*, user: User, name: str) -> IssuedToken:
    """Issue a token for `user`. The returned secret is the only copy there will ever be."""
    if connection.schema_name == "public":
        raise ValidationError("API tokens belong to a workspace.", code="no_workspace")
    if not user.is_active:
        raise ValidationError("Deactivated agents cannot create tokens.", code="inactive")
    name = api_token_name_clean(name)
    active = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
    if active >= ACTIVE_TOKENS_PER_AGENT:
        raise ValidationError(
            f"You already have {ACTIVE_TOKENS_PER_AGENT} active tokens. Revoke one you no "
            "longer use first.",
            code="too_many",
        )
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    raw = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, token_hash=_token_hash(raw)
    )
    return IssuedToken(token=token, secret=raw)


def api_token_revoke(*, actor: User, token_id: int | str) -> ApiToken:
    """Revoke one of the actor's own tokens. Revoking twice keeps the first revocation time."""
    token = api_token_access(actor=actor, token_id=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, raw: str) -> tuple[User, ApiToken] | None:
    """The active agent and token that `raw` stands for in the current schema, or None."""
    if connection.schema_name == "public" or not raw or _token_parse(raw) is None:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_token_hash(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # A plain UPDATE: concurrent requests must not serialise on the row or race a revoke.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token.user, token


# ---- Reads --------------------------------------------------------------------------------


def api_token_list(*, actor: User) -> QuerySet[ApiToken]:
    """The actor's own tokens, newest first; revoked ones stay listed as a record."""
    return ApiToken.objects.filter(user=actor).order_by("-created_at", "-pk")


def api_token_access(*, actor: User, token_id: int | str) -> ApiToken:
    """One of the actor's own tokens. Missing and someone else's look the same."""
    pk = object_id_parse(token_id)
    if pk is None:
        raise ApiToken.DoesNotExist
    return ApiToken.objects.get(pk=pk, user=actor)
