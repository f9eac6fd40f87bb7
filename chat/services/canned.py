"""Writes on canned responses: saved replies agents insert in the composer with /shortcut.

Any agent may read them (chat.selectors.canned); creating, editing and deleting them is for the
owner and admins, so one person can't quietly change what the whole team sends.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import CannedResponse
from tenants.agents.models import User

SHORTCUT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
TITLE_MAX_LENGTH = 120
BODY_MAX_LENGTH = 5000


def canned_response_manage_check(*, actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only the owner and admins can manage canned responses.")


def shortcut_normalize(value: str) -> str:
    """What agents type after the slash: "/Shipping-Time " → "shipping-time"."""
    shortcut = value.strip().removeprefix("/").lower()
    if not shortcut:
        raise ValidationError("Enter a shortcut, e.g. shipping-time.", code="required")
    if not SHORTCUT_RE.match(shortcut):
        raise ValidationError(
            "Use up to 40 lowercase letters, digits, “-” or “_”, starting with a letter or digit "
            "(e.g. shipping-time). No spaces.",
            code="invalid_shortcut",
        )
    return shortcut


def _title_normalize(value: str) -> str:
    title = " ".join(value.split())
    if not title:
        raise ValidationError("Enter a title.", code="required")
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationError(f"Keep the title to {TITLE_MAX_LENGTH} characters.", code="too_long")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in title):
        raise ValidationError("Use letters, digits and punctuation only.", code="invalid")
    return title


def _body_normalize(value: str) -> str:
    body = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise ValidationError("Write the reply this shortcut inserts.", code="required")
    if len(body) > BODY_MAX_LENGTH:
        raise ValidationError(
            f"Keep the reply to {BODY_MAX_LENGTH:,} characters (it has {len(body):,}).",
            code="too_long",
        )
    if "\x00" in body:
        raise ValidationError("The reply contains a character that can't be stored.")
    return body


def _validated(
    *, shortcut: str, title: str, body: str, exclude_id: int | None
) -> tuple[str, str, str]:
    errors: dict[str, list[ValidationError]] = {}
    values: dict[str, str] = {}
    for name, normalize, value in (
        ("shortcut", shortcut_normalize, shortcut),
        ("title", _title_normalize, title),
        ("body", _body_normalize, body),
    ):
        try:
            values[name] = normalize(value)
        except ValidationError as exc:
            errors[name] = exc.error_list
    if "shortcut" in values:
        taken = CannedResponse.objects.filter(shortcut=values["shortcut"])
        if exclude_id is not None:
            taken = taken.exclude(pk=exclude_id)
        if taken.exists():
            errors["shortcut"] = [_taken(values["shortcut"])]
    if errors:
        raise ValidationError(errors)
    return values["shortcut"], values["title"], values["body"]


def _taken(shortcut: str) -> ValidationError:
    return ValidationError(
        f"/{shortcut} is already used by another canned response. Pick another shortcut.",
        code="taken",
    )


def canned_response_create(*, actor: User, shortcut: str, title: str, body: str) -> CannedResponse:
    canned_response_manage_check(actor=actor)
    shortcut, title, body = _validated(shortcut=shortcut, title=title, body=body, exclude_id=None)
    try:
        with transaction.atomic():
            return CannedResponse.objects.create(
                shortcut=shortcut,
                title=title,
                body=body,
                created_by=actor,
                updated_at=timezone.now(),
            )
    except IntegrityError:  # the same shortcut saved by someone else a moment ago
        raise ValidationError({"shortcut": [_taken(shortcut)]}) from None


def canned_response_update(
    *, actor: User, canned_response: CannedResponse, shortcut: str, title: str, body: str
) -> CannedResponse:
    canned_response_manage_check(actor=actor)
    shortcut, title, body = _validated(
        shortcut=shortcut, title=title, body=body, exclude_id=canned_response.pk
    )
    canned_response.shortcut = shortcut
    canned_response.title = title
    canned_response.body = body
    canned_response.updated_at = timezone.now()
    try:
        with transaction.atomic():
            canned_response.save(update_fields=["shortcut", "title", "body", "updated_at"])
    except IntegrityError:
        canned_response.refresh_from_db()
        raise ValidationError({"shortcut": [_taken(shortcut)]}) from None
    return canned_response


def canned_response_delete(*, actor: User, canned_response: CannedResponse) -> None:
    canned_response_manage_check(actor=actor)
    CannedResponse.objects.filter(pk=canned_response.pk).delete()
