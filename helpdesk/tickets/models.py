"""Tickets: the unit of work (DOMAIN.md). Workspace schema."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone as dj_timezone

from helpdesk.contacts.models import Contact

# A PostgreSQL sequence per workspace schema (created by migration 0001), so numbers are handed
# out without a lock on any row: ingesting mail and starting chats never queue behind each other.
# It counts from 1 and numbers start at 1001: schema cloning recreates sequences from their
# start, so the offset lives here rather than in the sequence.
TICKET_NUMBER_SEQUENCE = "ticket_number_seq"
TICKET_NUMBER_OFFSET = 1000


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        ON_HOLD = "on_hold", "On hold"
        SOLVED = "solved", "Solved"
        CLOSED = "closed", "Closed"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    number = models.PositiveIntegerField(unique=True)
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    requester = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="tickets")
    # Channels of its conversations ("web", "email"), for the list's icons and channel filter.
    channels = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    # Merged tickets are closed and point at the ticket that took their conversations.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets"
    )
    # A customer writing again on a closed ticket opens a new one linked to it (DOMAIN.md).
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    # Newest public message of any of its conversations, and unread customer messages, so the
    # list needs no join or count.
    last_message_preview = models.CharField(max_length=200, blank=True)
    last_message_sender_kind = models.CharField(max_length=16, blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=dj_timezone.now)
    last_activity_at = models.DateTimeField(default=dj_timezone.now)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["-last_activity_at", "-id"], name="ticket_activity_idx"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
            models.Index(
                fields=["status", "-last_activity_at", "-id"], name="ticket_status_activity_idx"
            ),
            models.Index(
                fields=["assignee", "status", "-last_activity_at"], name="ticket_assignee_idx"
            ),
            GinIndex(fields=["tags"], name="ticket_tags_idx"),
            GinIndex(fields=["channels"], name="ticket_channels_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"
