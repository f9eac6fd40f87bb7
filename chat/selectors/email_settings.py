from __future__ import annotations

from chat.models import EmailSettings, ImapMailbox


def email_settings_get() -> EmailSettings:
    """The current schema's mail settings, created with defaults if new (like the widget's, not
    by a migration, so every workspace cloned from the template gets its own row)."""
    obj, _ = EmailSettings.objects.get_or_create(id=1)
    return obj


def imap_mailbox_get() -> ImapMailbox | None:
    """The workspace's polled mailbox; settings offer one per workspace."""
    return ImapMailbox.objects.order_by("pk").first()
