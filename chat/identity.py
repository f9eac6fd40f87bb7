"""Checking a shopper identity signed by the merchant's server (HMAC-SHA256, timestamped).

The store signs "<timestamp>\n<id>\n<email>\n<name>" with the workspace's widget secret. We
accept it for IDENTITY_MAX_AGE after the timestamp so a leaked signature can't be replayed for
long, and a little before it for clock skew.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

IDENTITY_MAX_AGE_SECONDS = 15 * 60
IDENTITY_CLOCK_SKEW_SECONDS = 60


@dataclass(frozen=True)
class ShopperIdentity:
    external_id: str
    email: str
    name: str


def identity_signature(
    *, secret: str, timestamp: int, external_id: str, email: str, name: str
) -> str:
    """What the merchant's server computes; also used by the settings page's example."""
    message = f"{timestamp}\n{external_id}\n{email}\n{name}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _field(identity: dict, key: str, limit: int) -> str:
    value = identity.get(key, "")
    if value is None:
        value = ""
    if isinstance(value, int) and not isinstance(value, bool) and key == "id":
        value = str(value)
    if not isinstance(value, str):
        raise ValidationError(f"identity.{key} must be a string.", code="identity_invalid")
    if len(value) > limit or any(ch in value for ch in "\r\n\x00"):
        raise ValidationError(f"identity.{key} is not valid.", code="identity_invalid")
    return value


def identity_verify(*, identity: object, secret: str, now: datetime) -> ShopperIdentity:
    """The identity if its signature is valid and fresh; ValidationError saying why otherwise."""
    if not isinstance(identity, dict):
        raise ValidationError("The identity must be an object.", code="identity_invalid")
    external_id = _field(identity, "id", 200)
    email = _field(identity, "email", 254)
    name = _field(identity, "name", 200)
    if not external_id:
        raise ValidationError("The identity has no id.", code="identity_invalid")
    if email:
        validate_email(email)
    timestamp = identity.get("timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise ValidationError("identity.timestamp must be Unix seconds.", code="identity_invalid")
    signature = identity.get("signature")
    if not isinstance(signature, str) or len(signature) != 64:
        raise ValidationError("The identity signature is missing.", code="identity_invalid")
    age = now.timestamp() - timestamp
    if age > IDENTITY_MAX_AGE_SECONDS or age < -IDENTITY_CLOCK_SKEW_SECONDS:
        raise ValidationError("The identity signature has expired.", code="identity_expired")
    expected = identity_signature(
        secret=secret, timestamp=timestamp, external_id=external_id, email=email, name=name
    )
    if not hmac.compare_digest(expected, signature.lower()):
        raise ValidationError("The identity signature is not valid.", code="identity_invalid")
    return ShopperIdentity(external_id=external_id, email=email.lower(), name=name)
