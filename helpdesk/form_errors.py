"""Showing a service's ValidationError on the Django form of the page that called it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.forms import Form


def service_errors_to_form(form: Form, exc: ValidationError) -> list[str]:
    """Put a service's errors beside the form's fields; return those that have no field."""
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    rest: list[str] = []
    for name, errors in exc.error_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
        else:
            rest.extend(message for error in errors for message in error.messages)
    return rest
