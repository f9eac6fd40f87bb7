"""The email channel: messages' mail headers, the workspace's mail settings and IMAP mailboxes."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone as dj_timezone

from chat.models.conversations import Message


def _raw_path(instance: EmailMessage, filename: str) -> str:
    return f"email/raw/{instance.raw_id.hex}.eml"


class EmailMessage(models.Model):
    """The mail side of a Message: who, headers for threading, the HTML, delivery state."""

    class Direction(models.TextChoices):
        INBOUND = "in", "Received"
        OUTBOUND = "out", "Sent"

    class Delivery(models.TextChoices):
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="email")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    # Unique per workspace: the same mail arriving by two doors (IMAP retry and a webhook) is
    # stored once.
    message_id_header = models.CharField(max_length=998, unique=True)
    in_reply_to = models.TextField(blank=True)
    references = models.TextField(blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    # Sanitized at ingestion; shown in a sandboxed frame whose policy blocks remote images until
    # the agent asks for them.
    html = models.TextField(blank=True)
    has_remote_images = models.BooleanField(default=False)
    # Quoted history and signature cut from the shown text, kept for the "show quoted" toggle.
    quoted_text = models.TextField(blank=True)
    auto_submitted = models.BooleanField(default=False)
    # Inbound: the mail as received, kept whatever happened to parsing it.
    raw_id = models.UUIDField(default=uuid.uuid4, editable=False)
    raw = models.FileField(upload_to=_raw_path, max_length=300, blank=True)
    parse_error = models.TextField(blank=True)
    source = models.CharField(max_length=16, blank=True)  # smtp | imap | webhook:<esp>
    delivery_status = models.CharField(
        max_length=16, choices=Delivery.choices, default=Delivery.RECEIVED
    )
    delivery_error = models.TextField(blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    def __str__(self) -> str:
        return self.message_id_header


class EmailSettings(models.Model):
    """The workspace's mail options; one row per workspace (id=1)."""

    # The merchant's own support address: replies go out from it when set (they forward it to
    # the workspace's inbound address); otherwise from the inbound address itself.
    support_address = models.EmailField(blank=True)
    support_name = models.CharField(max_length=120, blank=True)
    # The first mail that arrived forwarded from another mailbox (forwarding detection).
    forwarding_detected_at = models.DateTimeField(null=True, blank=True)
    forwarding_detected_from = models.CharField(max_length=320, blank=True)
    # Acknowledgement auto-reply with the ticket number; templates per language code:
    # {"en": {"subject": "...", "body": "..."}, ...}; missing languages fall back to built-ins.
    ack_enabled = models.BooleanField(default=False)
    ack_templates = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Email settings"


class ImapMailbox(models.Model):
    """A mailbox the worker polls; UIDs remembered so no message is fetched twice."""

    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=993)
    use_ssl = models.BooleanField(default=True)
    username = models.CharField(max_length=320)
    # Fernet token (helpdesk/secrets_box.py); the clear password never reaches the database.
    password_encrypted = models.TextField()
    folder = models.CharField(max_length=200, default="INBOX")
    enabled = models.BooleanField(default=True)
    uid_validity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    def __str__(self) -> str:
        return f"{self.username}@{self.host}"
