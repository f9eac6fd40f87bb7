from __future__ import annotations

from tenants.workspace.models import WorkspaceSettings


def workspace_settings_get() -> WorkspaceSettings:
    """The current schema's settings row, created with defaults if a schema predates it."""
    obj, _ = WorkspaceSettings.objects.get_or_create(id=1)
    return obj
