"""Mail we send about tickets: agents' replies and the acknowledgement auto-reply.

The message is stored first, with its mail side queued; a Celery task sends it through Django's
email backend (SMTP or any django-anymail provider), retrying with backoff, and the inbox sees
queued → sent or failed with the reason.
"""

from __future__ import annotations

import logging
import smtplib
from email.utils import formataddr
from typing import TYPE_CHECKING

from anymail.exceptions import AnymailError, AnymailRecipientsRefused
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from chat.email.references import outbound_message_id, reply_address, workspace_address
from chat.models import Conversation, EmailMessage, EmailSettings, Message
from chat.payloads import message_payload
from chat.rate_limits import RateRule, rate_hits
from helpdesk.contacts.models import Contact
from helpdesk.realtime.groups import agents_group, broadcast_on_commit
from helpdesk.tickets.models import Ticket
from tenants.connection import connection, connection_workspace

if TYPE_CHECKING:
    from chat.email.parsing import ParsedEmail

log = logging.getLogger(__name__)

# At most this many automatic replies to one address per hour (DOMAIN.md: loops stopped).
ACK_PER_ADDRESS_PER_HOUR = 3
REFERENCES_MAX = 20


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _sender() -> str:
    row = EmailSettings.objects.filter(pk=1).first()
    tenant = connection_workspace()
    name = _one_line((row.support_name if row else "") or tenant.name)
    address = (row.support_address if row else "") or workspace_address(tenant.slug)
    return formataddr((name, address))


def _subject(ticket: Ticket) -> str:
    subject = _one_line(ticket.subject) or "Your request"
    tag = f"[#{ticket.number}]"
    if tag not in subject:
        subject = f"{subject} {tag}"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    return subject[:250]


def email_reply_draft(*, conversation: Conversation) -> EmailMessage:
    """The unsaved mail side of an agent's reply in an email conversation."""
    ticket = Ticket.objects.get(conversations=conversation)
    last_in = (
        EmailMessage.objects.filter(
            message__conversation=conversation, direction=EmailMessage.Direction.INBOUND
        )
        .order_by("-message__seq")
        .first()
    )
    to = (last_in.from_address if last_in else "") or conversation.contact.email
    if not to:
        raise ValidationError(
            "This customer has no email address to reply to.", code="no_email_address"
        )
    references: list[str] = []
    in_reply_to = ""
    if last_in is not None:
        references = [*last_in.references.split(), last_in.message_id_header][-REFERENCES_MAX:]
        in_reply_to = last_in.message_id_header
    return EmailMessage(
        direction=EmailMessage.Direction.OUTBOUND,
        message_id_header=outbound_message_id(ticket_id=ticket.pk),
        in_reply_to=in_reply_to,
        references=" ".join(references),
        from_address=_sender(),
        to=[to],
        subject=_subject(ticket),
        delivery_status=EmailMessage.Delivery.QUEUED,
    )


def email_queue_send(email: EmailMessage) -> None:
    """Send after commit: the worker must find the row, and a rolled-back reply sends nothing."""
    from chat.tasks import email_deliver_task

    email_id = email.pk
    transaction.on_commit(lambda: email_deliver_task.delay(email_id))


def email_ack_queue(*, ticket: Ticket, contact: Contact, parsed: ParsedEmail) -> bool:
    """The acknowledgement auto-reply for a new ticket, when switched on and not too frequent.

    Never for automatic mail (the caller checks), and at most a few per address per hour.
    """
    from chat.services.email_settings import email_ack_render
    from chat.services.messages import message_create

    row = EmailSettings.objects.filter(pk=1).first()
    if row is None or not row.ack_enabled:
        return False
    if not rate_hits(
        [RateRule("email.ack", parsed.from_address, (ACK_PER_ADDRESS_PER_HOUR, 3600))]
    ).allowed:
        log.info("Acknowledgement to %s skipped: hourly limit reached", parsed.from_address)
        return False
    subject, body = email_ack_render(
        language=contact.language or parsed.language_hint,
        ticket_number=ticket.number,
        subject=ticket.subject,
        customer_name=contact.name,
    )
    conversation = Conversation.objects.select_related("contact").get(ticket=ticket)
    draft = email_reply_draft(conversation=conversation)
    draft.subject = _one_line(subject)[:250] or draft.subject
    draft.auto_submitted = True
    message_create(
        conversation=conversation,
        sender_kind=Message.SenderKind.SYSTEM,
        body=body,
        email=draft,
    )
    email_queue_send(draft)
    return True


def _mail_for(email: EmailMessage) -> EmailMultiAlternatives:
    message = email.message
    conversation = message.conversation
    headers = {
        "Message-ID": f"<{email.message_id_header}>",
        "Reply-To": reply_address(
            slug=connection_workspace().slug, ticket_id=conversation.ticket_id or 0
        ),
    }
    if email.in_reply_to:
        headers["In-Reply-To"] = f"<{email.in_reply_to}>"
    if email.references:
        headers["References"] = " ".join(f"<{r}>" for r in email.references.split())
    if email.auto_submitted:
        # RFC 3834: other systems must not answer this automatically.
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    mail = EmailMultiAlternatives(
        subject=_one_line(email.subject),
        body=message.body,
        from_email=email.from_address,
        to=list(email.to),
        cc=list(email.cc),
        headers=headers,
    )
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            mail.attach(attachment.name, handle.read(), attachment.content_type)
    return mail


def _broadcast_updated(email: EmailMessage) -> None:
    message = email.message
    Message.email.related.set_cached_value(message, email)
    broadcast_on_commit(
        group=agents_group(connection.schema_name),
        event={
            "type": "chat.message_updated",
            "conversation_id": message.conversation_id,
            "message": message_payload(
                message, contact_name=message.conversation.contact.display_name, for_agent=True
            ),
        },
    )


class DeliveryRetry(Exception):
    """A temporary failure: the task tries again later."""


def email_deliver(*, email_id: int, final_attempt: bool) -> str:
    """Send one queued mail. Returns its status; raises DeliveryRetry on a temporary failure
    unless this is the last attempt, which marks it failed with the reason."""
    retry_reason = ""
    with transaction.atomic():
        email = (
            EmailMessage.objects.select_for_update(of=("self",))
            .select_related("message__conversation__contact")
            .filter(pk=email_id)
            .first()
        )
        if email is None or email.delivery_status != EmailMessage.Delivery.QUEUED:
            # Sent already (a retried task) or gone: sending again would double the mail.
            return email.delivery_status if email else "missing"
        email.delivery_attempts += 1
        try:
            get_connection(fail_silently=False).send_messages([_mail_for(email)])
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            _failed(email, f"The mail server refused the address: {_smtp_reason(exc)}")
            return email.delivery_status
        except (AnymailError, OSError, smtplib.SMTPException) as exc:
            if _refused_by_provider(exc):
                # A provider's API refused this mail (bad address, unverified sender, bad key):
                # trying again would get the same answer.
                _failed(email, f"The email provider refused the mail: {_first_line(exc)}")
                return email.delivery_status
            if final_attempt:
                _failed(email, f"Could not send the mail: {_first_line(exc)}")
                return email.delivery_status
            # Recorded (committed) before the task schedules its retry.
            retry_reason = _first_line(exc)
            email.delivery_error = f"Retrying: {retry_reason}"[:500]
            email.save(update_fields=["delivery_attempts", "delivery_error"])
            _broadcast_updated(email)
        else:
            email.delivery_status = EmailMessage.Delivery.SENT
            email.delivery_error = ""
            email.sent_at = timezone.now()
            email.save(
                update_fields=["delivery_status", "delivery_error", "delivery_attempts", "sent_at"]
            )
            _broadcast_updated(email)
    if retry_reason:
        raise DeliveryRetry(retry_reason)
    return email.delivery_status


def _refused_by_provider(exc: Exception) -> bool:
    if isinstance(exc, AnymailRecipientsRefused):
        return True
    status = getattr(exc, "status_code", None) if isinstance(exc, AnymailError) else None
    return status is not None and 400 <= status < 500 and status != 429


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _smtp_reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        reasons = [
            f"{address}: {code} {raw.decode(errors='replace') if isinstance(raw, bytes) else raw}"
            for address, (code, raw) in exc.recipients.items()
        ]
        return "; ".join(reasons)
    return str(exc)


def _failed(email: EmailMessage, reason: str) -> None:
    email.delivery_status = EmailMessage.Delivery.FAILED
    email.delivery_error = _one_line(reason)[:500]
    email.save(update_fields=["delivery_status", "delivery_error", "delivery_attempts"])
    log.warning("Mail %s failed: %s", email.message_id_header, email.delivery_error)
    _broadcast_updated(email)


def email_bounce_record(*, message_id_header: str, reason: str) -> bool:
    """A bounce returned one of our mails: it shows as failed, with the server's reason."""
    with transaction.atomic():
        email = (
            EmailMessage.objects.select_for_update(of=("self",))
            .select_related("message__conversation__contact")
            .filter(message_id_header=message_id_header, direction=EmailMessage.Direction.OUTBOUND)
            .first()
        )
        if email is None:
            return False
        _failed(email, f"Bounced: {reason}")
    return True
