from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.core.mail import EmailMultiAlternatives

log = logging.getLogger(__name__)

# Retries back off from 30 s to 10 min; a mail server that is down longer than that is an outage
# the operator sees in the worker log, not something to queue for hours.
MAX_RETRIES = 8


@shared_task(bind=True, max_retries=MAX_RETRIES)
def email_send_task(
    self,
    *,
    subject: str,
    body: str,
    from_email: str,
    to: list[str],
    html_body: str | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    message = EmailMultiAlternatives(
        subject=subject, body=body, from_email=from_email, to=to, headers=headers or {}
    )
    if html_body:
        message.attach_alternative(html_body, "text/html")
    try:
        return message.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        # A refused address stays refused; retrying would only repeat the bounce.
        log.warning("Mail %r to %s refused: %s", subject, to, exc)
        return 0
    except OSError as exc:  # connection problems and temporary SMTP failures
        raise self.retry(exc=exc, countdown=min(600, 30 * 2**self.request.retries)) from exc
