"""Conversations and their messages (see DOMAIN.md). Workspace schema."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone

from helpdesk.contacts.models import Contact


class Conversation(models.Model):
    """One thread with a contact on one channel; it belongs to one ticket, the unit of work."""

    class Channel(models.TextChoices):
        WEB = "web", "Web chat"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="conversations")
    # Null only between creating the conversation and opening its ticket in the same transaction.
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="conversations",
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateTimeField(null=True, blank=True, db_index=True)
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
    # Read positions: the newest seq the visitor has seen (read receipts for agents), and the
    # newest the agents have seen (unread counts in the inbox).
    visitor_last_read_seq = models.PositiveBigIntegerField(default=0)
    agent_last_read_seq = models.PositiveBigIntegerField(default=0)
    # Customer messages after agent_last_read_seq, kept here so the inbox list needs no count.
    agent_unread_count = models.PositiveIntegerField(default=0)
    # Newest public message, for the inbox list.
    last_message_preview = models.CharField(max_length=200, blank=True)
    last_message_sender_kind = models.CharField(max_length=16, blank=True)
    # Pre-chat answers and where the chat started: {"fields": {...}, "page_url": ..., ...}.
    started_context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    last_activity_at = models.DateTimeField(default=dj_timezone.now, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "-last_activity_at"], name="conversation_status_idx"),
            models.Index(fields=["assignee", "status"], name="conversation_assignee_idx"),
        ]

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
    body = models.TextField(blank=True)
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
