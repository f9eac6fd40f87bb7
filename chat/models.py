"""Contacts, conversations and messages (see DOMAIN.md). All live in the workspace schema."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone


class Contact(models.Model):
    """A customer. One person reaching the workspace on several channels is one contact."""

    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=2, blank=True)
    language = models.CharField(max_length=16, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    external_id = models.CharField(max_length=200, blank=True, db_index=True)
    identity_verified = models.BooleanField(default=False)
    custom_attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    def __str__(self) -> str:
        return self.name or self.email or f"Contact {self.pk}"


class Conversation(models.Model):
    class Channel(models.TextChoices):
        WEB = "web", "Web chat"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="conversations")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
    )
    # The sequence number of the newest message; the next message takes last_seq + 1 under a
    # row lock, so numbers are gap-free and ordered per conversation.
    last_seq = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=dj_timezone.now)
    last_activity_at = models.DateTimeField(default=dj_timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"Conversation {self.pk}"


class Message(models.Model):
    class SenderKind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        BOT = "bot", "Bot"
        SYSTEM = "system", "System"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveBigIntegerField()
    # Chosen by the sending client; a retried send carries the same id and is stored once.
    client_message_id = models.CharField(max_length=64, null=True, blank=True)
    sender_kind = models.CharField(max_length=16, choices=SenderKind.choices)
    sender_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    is_internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(
                fields=["conversation", "client_message_id"],
                condition=Q(client_message_id__isnull=False),
                name="message_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.conversation_id}#{self.seq}"
