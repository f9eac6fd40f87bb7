"""Files sent in a conversation. Served only through an access-checked view, never from /media/."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone as dj_timezone

from chat.models.conversations import Conversation, Message


def _attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is the unguessable id: the visitor's file name never reaches the disk.
    return f"attachments/{instance.conversation_id}/{instance.id.hex}"


class Attachment(models.Model):
    # Unguessable: ids appear in download URLs and in frames the client sends back.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="attachments"
    )
    # Empty until a message carrying it is sent; an attachment joins one message only.
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=_attachment_path, max_length=300)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by_kind = models.CharField(max_length=16, choices=Message.SenderKind.choices)
    uploaded_by_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        # A message shows its files in the order they were added.
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
