from __future__ import annotations

from tenants.workspace.models import WorkspaceSettings


def workspace_settings_initialize(*, timezone: str, language: str) -> WorkspaceSettings:
    return WorkspaceSettings.objects.create(id=1, timezone=timezone, default_language=language)
