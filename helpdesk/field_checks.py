"""Running a form's per-field checks and collecting every error at once, for settings services
that save a whole page together."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping

from django.core.exceptions import ValidationError


def fields_check(
    checks: Mapping[str, Callable[[], object]],
) -> tuple[dict[str, object], dict[str, list[ValidationError]]]:
    """Each check returns its field's clean value or raises ValidationError; returns the clean
    values and the errors by field, so the page can show all of them in one round."""
    cleaned: dict[str, object] = {}
    errors: dict[str, list[ValidationError]] = {}
    for name, check in checks.items():
        try:
            cleaned[name] = check()
        except ValidationError as exc:
            errors[name] = exc.error_list
    return cleaned, errors


def has_control_characters(value: str, *, allow_newlines: bool = False) -> bool:
    """Control, format (bidi overrides, zero-width) and line/paragraph separator characters:
    invisible in a settings page, harmful in a header or a one-line field."""
    for char in value:
        if allow_newlines and char == "\n":
            continue
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return True
    return False
