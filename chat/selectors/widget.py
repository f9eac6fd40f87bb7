from __future__ import annotations

from chat.models import WidgetSettings


def widget_settings_get() -> WidgetSettings:
    """The current schema's widget settings, created with defaults and a fresh secret if new.

    Not created by a migration: the template schema is copied to every new workspace, and each
    workspace needs its own identity secret.
    """
    obj, _ = WidgetSettings.objects.get_or_create(id=1)
    return obj
