"""The widget settings as the loader script and the chat frame receive them (JSON).

Values are re-checked here even though the settings form validates them: they end up inside a
script on someone else's store and in CSS, so only known-good shapes pass.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from chat.models import WidgetSettings
from chat.services.messages import MESSAGE_MAX_CHARS

DEFAULT_BRAND_COLOR = "#2563eb"
_HEX_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_FIELD_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_STORE_HOST_RE = re.compile(r"^(\*\.)?[A-Za-z0-9.-]{1,253}$")
CUSTOM_FIELDS_MAX = 10
# What the attachment upload accepts (checked again, from the bytes, on the server).
ATTACHMENT_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"]
WIDGET_SOCKET_PATH = "/ws/widget/"
WIDGET_UPLOAD_PATH = "/widget/api/attachments/"


def brand_color(value: str) -> str:
    return value.lower() if _HEX_COLOR_RE.match(value or "") else DEFAULT_BRAND_COLOR


def _luminance(hex_color: str) -> float:
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def on_brand_color(hex_color: str) -> str:
    """White or near-black, whichever reads better on the brand colour (WCAG contrast)."""
    lum = _luminance(hex_color)
    dark = "#111827"
    contrast_white = 1.05 / (lum + 0.05)
    contrast_dark = (lum + 0.05) / (_luminance(dark) + 0.05)
    return "#ffffff" if contrast_white >= contrast_dark else dark


def custom_fields(value: object) -> list[dict[str, Any]]:
    """The pre-chat questions: [{key, label, required}], malformed entries dropped."""
    if not isinstance(value, list):
        return []
    fields = []
    for spec in value[:CUSTOM_FIELDS_MAX]:
        if not isinstance(spec, dict):
            continue
        key = spec.get("key")
        if not isinstance(key, str) or not _FIELD_KEY_RE.match(key):
            continue
        label = spec.get("label")
        label = label.strip()[:100] if isinstance(label, str) and label.strip() else key
        fields.append({"key": key, "label": label, "required": bool(spec.get("required"))})
    return fields


def allowed_store_hosts(value: object) -> list[str]:
    """The allowed store domains as the loader compares them with the page's host."""
    if not isinstance(value, list):
        return []
    return [
        v.strip().lower() for v in value if isinstance(v, str) and _STORE_HOST_RE.match(v.strip())
    ]


def widget_loader_config(
    *,
    row: WidgetSettings,
    workspace_name: str,
    strings: dict[str, str],
    direction: str,
    origin: str,
    frame_path: str,
) -> dict[str, Any]:
    color = brand_color(row.brand_color)
    return {
        # The loader stays quiet on a store that is not allowed instead of drawing a launcher
        # whose chat the browser then refuses to show. Not a secret: the frame's CSP lists them.
        "allowedHosts": allowed_store_hosts(row.allowed_domains),
        # Used only if the script can't tell where it was loaded from (document.currentScript).
        "origin": origin,
        "framePath": frame_path,
        "brandColor": color,
        "onBrandColor": on_brand_color(color),
        "position": "left" if row.position == WidgetSettings.Position.LEFT else "right",
        "dir": direction,
        "strings": {
            "open": strings["launcher_open"],
            "close": strings["launcher_close"],
            "dismiss": strings["dismiss"],
            "unread": strings["unread"],
            "frameTitle": strings["frame_title"].replace("{name}", workspace_name),
        },
    }


def widget_frame_config(
    *, row: WidgetSettings, request: HttpRequest, language: str, strings: dict[str, str]
) -> dict[str, Any]:
    from tenants.workspace.selectors import workspace_settings_get

    color = brand_color(row.brand_color)
    logo = workspace_settings_get().logo
    tenant = getattr(request, "tenant", None)
    return {
        "lang": language,
        "strings": strings,
        "workspace": {
            "name": tenant.name if tenant is not None else "",
            "logoUrl": logo.url if logo else None,
        },
        "settings": {
            "greeting": row.greeting.strip() or strings["greeting_default"],
            "askName": bool(row.ask_name),
            "askEmail": row.ask_email
            if row.ask_email in WidgetSettings.EmailField.values
            else WidgetSettings.EmailField.OFF,
            "customFields": custom_fields(row.custom_fields),
            "replyTimeMinutes": int(row.reply_time_minutes),
            "brandColor": color,
            "onBrandColor": on_brand_color(color),
        },
        "endpoints": {"socket": WIDGET_SOCKET_PATH, "upload": WIDGET_UPLOAD_PATH},
        "limits": {
            "messageChars": MESSAGE_MAX_CHARS,
            "fileBytes": settings.CHAT_ATTACHMENT_MAX_BYTES,
            "fileTypes": ATTACHMENT_TYPES,
        },
    }
