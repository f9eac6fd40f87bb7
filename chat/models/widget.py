from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone as dj_timezone


def widget_secret_new() -> str:
    return secrets.token_hex(32)


class WidgetSettings(models.Model):
    """How the chat widget looks and whom it lets in; one row per workspace (id=1)."""

    class Position(models.TextChoices):
        RIGHT = "right", "Bottom right"
        LEFT = "left", "Bottom left"

    class EmailField(models.TextChoices):
        OFF = "off", "Don't ask"
        OPTIONAL = "optional", "Optional"
        REQUIRED = "required", "Required"

    enabled = models.BooleanField(default=True)
    brand_color = models.CharField(max_length=7, default="#2563eb")
    position = models.CharField(max_length=8, choices=Position.choices, default=Position.RIGHT)
    # Empty means "the default greeting in the visitor's language".
    greeting = models.CharField(max_length=300, blank=True)
    ask_name = models.BooleanField(default=True)
    ask_email = models.CharField(max_length=8, choices=EmailField.choices, default="optional")
    # Extra pre-chat questions: [{"key": "order", "label": "Order number", "required": false}].
    custom_fields = models.JSONField(default=list, blank=True)
    # Shown when nobody is online, converted to the visitor's local time by the widget.
    reply_time_minutes = models.PositiveIntegerField(default=120)
    # Store hosts that may embed the widget ("shop.example", "*.shop.example"); empty = any.
    allowed_domains = models.JSONField(default=list, blank=True)
    # Widget language; empty = the visitor's browser language.
    language = models.CharField(max_length=16, blank=True)
    # Signs shopper identities (HMAC-SHA256) on the merchant's server. Rotatable.
    identity_secret = models.CharField(max_length=64, default=widget_secret_new)
    updated_at = models.DateTimeField(default=dj_timezone.now)

    def __str__(self) -> str:
        return "Widget settings"
