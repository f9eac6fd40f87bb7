from __future__ import annotations

from celery import shared_task
from django.conf import settings

from chat.email.imap_poll import imap_mailboxes_poll
from chat.email.outbound import DeliveryRetry, email_deliver
from chat.services.conversations import conversations_snoozed_wake_due


@shared_task(acks_late=True)
def conversations_snoozed_wake_task() -> int:
    # Idempotent: a second run finds nothing due.
    return conversations_snoozed_wake_due()


@shared_task(bind=True, acks_late=True, max_retries=settings.EMAIL_SEND_MAX_RETRIES)
def email_deliver_task(self, email_id: int) -> str:
    # A door into chat.email.outbound.email_deliver, which only sends a mail still queued, so a
    # task run twice sends once. Backoff 30 s, 1, 2, 4, 8 min.
    final = self.request.retries >= self.max_retries
    try:
        return email_deliver(email_id=email_id, final_attempt=final)
    except DeliveryRetry as exc:
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@shared_task(acks_late=True)
def imap_mailboxes_poll_task() -> list[dict]:
    # Beat runs it every minute in each workspace (helpdesk.jobs fan-out). A mailbox's trouble is
    # stored on it and shown in settings, never raised; a run killed half way resumes at the
    # first message not yet stored.
    return [vars(result) for result in imap_mailboxes_poll()]
