"""The mail side of a message as agents see it (inbox and API)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from chat.models import EmailMessage


def email_payload(email: EmailMessage) -> dict[str, Any]:
    """Addresses, subject and delivery state; the HTML itself is fetched from `html_url`, a
    sandboxed page whose policy blocks remote images unless `?images=1` is asked for."""
    from chat.payloads import iso_utc

    return {
        "direction": email.direction,
        "from": {"address": email.from_address, "name": email.from_name},
        "to": list(email.to),
        "cc": list(email.cc),
        "subject": email.subject,
        "has_html": bool(email.html),
        "html_url": reverse("chat_email_html", args=[email.message_id]) if email.html else None,
        "raw_url": reverse("chat_email_raw", args=[email.message_id]) if email.raw else None,
        "has_remote_images": email.has_remote_images,
        "quoted_text": email.quoted_text,
        "auto_submitted": email.auto_submitted,
        "parse_error": email.parse_error,
        "delivery_status": email.delivery_status,
        "delivery_error": email.delivery_error,
        "sent_at": iso_utc(email.sent_at),
    }
