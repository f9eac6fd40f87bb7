from django.conf import settings
from django.db import models


class WorkspaceSettings(models.Model):
    """Per-workspace options; exactly one row per tenant schema (id=1)."""

    timezone = models.CharField(max_length=64, default="UTC")
    default_language = models.CharField(max_length=16, choices=settings.LANGUAGES, default="en")
    logo = models.ImageField(upload_to="logos/", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Workspace settings"
