from __future__ import annotations

from celery import shared_task

from chat.services.conversations import conversations_snoozed_wake_due


@shared_task(acks_late=True)
def conversations_snoozed_wake_task() -> int:
    # Idempotent: a second run finds nothing due.
    return conversations_snoozed_wake_due()
