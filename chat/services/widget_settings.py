"""Writes on the workspace's chat widget settings and its identity-signing secret. Admins only.

Everything is validated here, not only in the settings form, so the rules hold whichever door a
change comes in by. The widget reads the row on every connection, so a change (a rotated secret
above all) takes effect for the next visitor who connects.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from chat.models import WidgetSettings
from chat.models.widget import widget_secret_new
from chat.selectors.widget import widget_settings_get
from helpdesk.field_checks import fields_check, has_control_characters
from tenants.agents.models import User
from tenants.agents.permissions import workspace_manage_check

BRAND_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
GREETING_MAX_LENGTH = 300
CUSTOM_FIELDS_MAX = 10
CUSTOM_FIELD_LABEL_MAX_LENGTH = 60
CUSTOM_FIELD_KEY_MAX_LENGTH = 40
ALLOWED_DOMAINS_MAX = 50
# What the merchant can pick; the widget converts it to the shopper's local time.
REPLY_TIME_CHOICES = [
    (5, "In a few minutes"),
    (15, "Within 15 minutes"),
    (60, "Within an hour"),
    (120, "Within 2 hours"),
    (240, "Within 4 hours"),
    (1440, "Within a day"),
]
REPLY_TIME_MAX_MINUTES = 7 * 24 * 60
# The widget's own translations; "" lets the visitor's browser choose.
WIDGET_LANGUAGES = [
    ("", "Automatic (the visitor's browser language)"),
    ("en", "English"),
    ("zh-Hans", "简体中文 (Chinese, Simplified)"),
    ("es", "Español (Spanish)"),
    ("de", "Deutsch (German)"),
    ("fr", "Français (French)"),
    ("ja", "日本語 (Japanese)"),
    ("pt", "Português (Portuguese)"),
    ("ar", "العربية (Arabic)"),
]
_KEY_RE = re.compile(rf"^[a-z0-9_]{{1,{CUSTOM_FIELD_KEY_MAX_LENGTH}}}$")
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class CustomFieldSpec:
    """One extra pre-chat question as the merchant edits it; `key` is kept when the label is
    renamed so answers already given stay attached to it (empty for a new field)."""

    label: str
    required: bool = False
    key: str = ""


def brand_color_normalize(value: str) -> str:
    value = value.strip()
    if not BRAND_COLOR_RE.match(value):
        raise ValidationError(
            "Enter the colour as # and six hex digits, e.g. #2563eb.", code="invalid_color"
        )
    return value.lower()


def greeting_normalize(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(value) > GREETING_MAX_LENGTH:
        raise ValidationError(
            f"Keep the greeting to {GREETING_MAX_LENGTH} characters (it has {len(value)}).",
            code="too_long",
        )
    if has_control_characters(value, allow_newlines=True):
        raise ValidationError("Use letters, digits and punctuation only.", code="invalid")
    return value


def custom_field_key_for(label: str) -> str:
    """A stable key for an answer, from the label: "Order number" → "order_number"."""
    key = slugify(label).replace("-", "_").strip("_")[:CUSTOM_FIELD_KEY_MAX_LENGTH].strip("_")
    return key or "field"


def custom_fields_normalize(fields: list[CustomFieldSpec]) -> list[dict]:
    """The JSON stored on the row: [{"key", "label", "required"}], keys unique."""
    if len(fields) > CUSTOM_FIELDS_MAX:
        raise ValidationError(
            f"Ask at most {CUSTOM_FIELDS_MAX} extra questions.", code="too_many_fields"
        )
    result: list[dict] = []
    used: set[str] = set()
    for spec in fields:
        label = " ".join(spec.label.split())
        if not label:
            raise ValidationError("Every extra question needs a label.", code="label_required")
        if len(label) > CUSTOM_FIELD_LABEL_MAX_LENGTH:
            raise ValidationError(
                f"Keep “{label[:20]}…” to {CUSTOM_FIELD_LABEL_MAX_LENGTH} characters.",
                code="label_too_long",
            )
        if has_control_characters(label):
            raise ValidationError(
                "Question labels may use letters, digits and punctuation only.", code="invalid"
            )
        # A kept key is only trusted if it looks like one we made; otherwise derive it again.
        key = spec.key if _KEY_RE.match(spec.key or "") else custom_field_key_for(label)
        if key in used:
            base, n = key[: CUSTOM_FIELD_KEY_MAX_LENGTH - 3], 2
            while f"{base}_{n}" in used:
                n += 1
            key = f"{base}_{n}"
        used.add(key)
        result.append({"key": key, "label": label, "required": bool(spec.required)})
    return result


def store_domain_normalize(value: str) -> str:
    """A store host as the merchant may paste it ("https://Shop.example/cart", "*.shop.example")
    reduced to what the widget compares with a page's host: "shop.example", "*.shop.example".
    Ports are dropped: a host is allowed on any port."""
    shown = value.strip()
    invalid = ValidationError(
        f"“{shown}” is not a valid domain. Use something like shop.example.com or *.example.com.",
        code="invalid_domain",
    )
    host = shown.lower()
    if not host:
        raise ValidationError("Enter a domain, e.g. shop.example.com.", code="required")
    if "://" in host:
        try:
            host = urlsplit(host).netloc.rsplit("@", 1)[-1]  # without "user:pass@"
        except ValueError:  # e.g. an unclosed "[" in the host part
            raise invalid from None
    else:
        host = re.split(r"[/?#]", host, maxsplit=1)[0]
    if host.startswith("["):
        raise ValidationError(f"“{shown}”: use a host name, not an IPv6 address.", code="ipv6")
    host, colon, port = host.partition(":")
    if colon and not port.isdigit():  # "javascript:…", "mailto:…"
        raise invalid
    host = host.rstrip(".")
    wildcard = host.startswith("*.")
    if wildcard:
        host = host[2:]
    if host in ("", "*"):
        raise ValidationError(
            f"“{shown}” is not a domain. To allow every site, leave the list empty.",
            code="invalid_domain",
        )
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        pass
    else:
        if wildcard:
            raise invalid
        return host
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise invalid from None
    labels = host.split(".")
    if (
        len(host) > 253
        or not all(_LABEL_RE.match(label) for label in labels)
        or labels[-1].isdigit()
        # One label is a typo ("myshop") except for a merchant trying the widget locally.
        or (len(labels) < 2 and (wildcard or host != "localhost"))
    ):
        raise invalid
    return ("*." if wildcard else "") + host


def allowed_domains_normalize(domains: list[str]) -> list[str]:
    result: list[str] = []
    errors: list[ValidationError] = []
    for value in domains:
        if not value.strip():
            continue
        try:
            host = store_domain_normalize(value)
        except ValidationError as exc:
            errors.append(exc)
            continue
        if host not in result:
            result.append(host)
    if errors:
        raise ValidationError(errors)
    if len(result) > ALLOWED_DOMAINS_MAX:
        raise ValidationError(
            f"List at most {ALLOWED_DOMAINS_MAX} domains (there are {len(result)}). "
            "A wildcard such as *.example.com covers many at once.",
            code="too_many_domains",
        )
    return result


def _reply_time_validate(minutes: int) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValidationError("Choose an expected reply time.", code="invalid")
    if not 1 <= minutes <= REPLY_TIME_MAX_MINUTES:
        raise ValidationError("Choose an expected reply time.", code="invalid")
    return minutes


def _language_validate(language: str) -> str:
    if language not in {code for code, _ in WIDGET_LANGUAGES}:
        raise ValidationError("Choose one of the listed languages.", code="invalid_language")
    return language


def widget_settings_update(
    *,
    actor: User,
    enabled: bool,
    brand_color: str,
    position: str,
    greeting: str,
    ask_name: bool,
    ask_email: str,
    custom_fields: list[CustomFieldSpec],
    reply_time_minutes: int,
    allowed_domains: list[str],
    language: str,
) -> WidgetSettings:
    """Save every setting at once (the page edits them together); the secret is left alone."""
    workspace_manage_check(actor=actor)
    cleaned, errors = fields_check(
        {
            "brand_color": lambda: brand_color_normalize(brand_color),
            "greeting": lambda: greeting_normalize(greeting),
            "custom_fields": lambda: custom_fields_normalize(custom_fields),
            "reply_time_minutes": lambda: _reply_time_validate(reply_time_minutes),
            "allowed_domains": lambda: allowed_domains_normalize(allowed_domains),
            "language": lambda: _language_validate(language),
        }
    )
    if position not in WidgetSettings.Position.values:
        errors["position"] = [ValidationError("Choose bottom right or bottom left.")]
    if ask_email not in WidgetSettings.EmailField.values:
        errors["ask_email"] = [ValidationError("Choose whether to ask for an email.")]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        row = widget_settings_get()
        row.enabled = bool(enabled)
        row.position = position
        row.ask_name = bool(ask_name)
        row.ask_email = ask_email
        for name, value in cleaned.items():
            setattr(row, name, value)
        row.updated_at = timezone.now()
        row.save(
            update_fields=[
                "enabled",
                "brand_color",
                "position",
                "greeting",
                "ask_name",
                "ask_email",
                "custom_fields",
                "reply_time_minutes",
                "allowed_domains",
                "language",
                "updated_at",
            ]
        )
    return row


def widget_secret_rotate(*, actor: User) -> WidgetSettings:
    """A new identity secret. Signatures made with the old one are refused from now on: a store
    that still uses it has its shoppers treated as anonymous until it switches."""
    workspace_manage_check(actor=actor)
    with transaction.atomic():
        row = widget_settings_get()
        row.identity_secret = widget_secret_new()
        row.updated_at = timezone.now()
        row.save(update_fields=["identity_secret", "updated_at"])
    return row
