from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone as dj_timezone


class CannedResponse(models.Model):
    """A saved reply; agents insert it in the composer by typing /shortcut."""

    shortcut = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=120)
    body = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ["shortcut"]

    def __str__(self) -> str:
        return f"/{self.shortcut}"
