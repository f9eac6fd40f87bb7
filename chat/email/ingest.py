"""Turning one received mail into a message on the right ticket (DOMAIN.md threading order).

1. In-Reply-To, then References newest first, matched against Message-IDs we stored (ours carry
   a signed ticket reference; a bad signature matches nothing).
2. The reply+token address it was sent to.
3. A subject tag [#1001], only when the sender is already on that ticket.
4. Otherwise a new ticket. A Message-ID seen before is stored once.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from chat.email.attachments import email_attachments_store
from chat.email.references import message_id_ticket, reply_token_ticket, workspace_address
from chat.models import Conversation, EmailMessage, EmailSettings, Message
from chat.services.conversations import conversation_open
from chat.services.messages import MESSAGE_MAX_CHARS, message_create
from helpdesk.contacts.services import contact_email_failing_mark, contact_for_email_sender
from helpdesk.tickets.models import Ticket
from tenants.connection import connection, connection_workspace

if TYPE_CHECKING:
    from chat.email.parsing import ParsedEmail

log = logging.getLogger(__name__)

_SUBJECT_TAG_RE = re.compile(r"\[#(\d{4,12})\]")
_TRUNCATED = "\n\n[… the rest of this email is in the original]"


@dataclass(frozen=True)
class IngestResult:
    status: str  # "stored" | "duplicate" | "bounce" | "dropped"
    ticket_number: int | None = None
    ticket_id: int | None = None
    message_id: int | None = None  # our Message row
    new_ticket: bool = False
    detail: str = ""


def _message_id_for(parsed: ParsedEmail, raw: bytes) -> str:
    # A mail without a Message-ID still gets one, from its bytes: the same bytes delivered twice
    # (an IMAP retry) are stored once.
    if parsed.message_id:
        return parsed.message_id[:998]
    return f"sha256.{hashlib.sha256(raw).hexdigest()}@no-message-id"


def _final(ticket: Ticket) -> Ticket:
    seen = set()
    while ticket.merged_into_id is not None and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


@dataclass(frozen=True)
class _Thread:
    ticket: Ticket | None = None
    conversation: Conversation | None = None
    how: str = "new"


def _thread_by_references(parsed: ParsedEmail) -> _Thread | None:
    candidates = [*parsed.in_reply_to, *reversed(parsed.references)]
    for reference in dict.fromkeys(candidates):
        stored = (
            EmailMessage.objects.filter(message_id_header=reference)
            .select_related("message__conversation")
            .first()
        )
        if stored is not None:
            conversation = stored.message.conversation
            ticket = Ticket.objects.filter(conversations=conversation).first()
            if ticket is not None:
                return _Thread(ticket, conversation, "references")
        ticket_id = message_id_ticket(reference)
        if ticket_id is not None:
            ticket = Ticket.objects.filter(pk=ticket_id).first()
            if ticket is not None:
                return _Thread(ticket, None, "references")
    return None


def _is_participant(ticket: Ticket, address: str) -> bool:
    if not address:
        return False
    if ticket.requester.email.lower() == address:
        return True
    mails = EmailMessage.objects.filter(message__conversation__ticket=ticket)
    return mails.filter(
        Q(from_address__iexact=address) | Q(to__contains=[address]) | Q(cc__contains=[address])
    ).exists()


def _thread_find(parsed: ParsedEmail, token: str) -> _Thread:
    found = _thread_by_references(parsed)
    if found is not None:
        return found
    if token:
        ticket_id = reply_token_ticket(token)
        ticket = Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None
        if ticket is not None:
            return _Thread(ticket, None, "reply address")
    for number in _SUBJECT_TAG_RE.findall(parsed.subject):
        ticket = Ticket.objects.select_related("requester").filter(number=int(number)).first()
        if ticket is not None and _is_participant(_final(ticket), parsed.from_address):
            return _Thread(ticket, None, "subject tag")
    return _Thread()


def _forwarding_note(parsed: ParsedEmail, recipient: str) -> None:
    """The first mail that reached us through a merchant's forwarding rule: say so in settings."""
    ours = workspace_address(connection_workspace().slug) if recipient else ""
    visible = set(parsed.to) | set(parsed.cc)
    if not ours or ours in visible:
        return
    others = [a for a in [*parsed.delivered_to, *parsed.to] if a and a != ours]
    if not others:
        return
    row, _ = EmailSettings.objects.get_or_create(pk=1)
    if row.forwarding_detected_at is None:
        row.forwarding_detected_at = timezone.now()
        row.forwarding_detected_from = others[0][:320]
        row.save(update_fields=["forwarding_detected_at", "forwarding_detected_from"])


def _raw_file(email: EmailMessage, raw: bytes) -> None:
    email.raw.save(f"{email.raw_id.hex}.eml", ContentFile(raw), save=False)


def _body(parsed: ParsedEmail) -> tuple[str, str]:
    """The text shown in the thread and what was cut from it."""
    text = parsed.visible_text.strip() or parsed.text.strip()
    quoted = parsed.quoted_text if parsed.visible_text.strip() else ""
    limit = MESSAGE_MAX_CHARS - len(_TRUNCATED)
    if len(text) > limit:
        text = text[:limit] + _TRUNCATED
    return text, quoted


def _html_with_cids(html: str, cid_urls: dict[str, str]) -> str:
    for content_id, url in cid_urls.items():
        html = html.replace(f'"cid:{content_id}"', f'"{url}"')
    return html


def email_ingest(raw: bytes, *, source: str, recipient: str = "", token: str = "") -> IngestResult:
    """Store `raw` in the current workspace schema. Never raises for anything in the mail.

    `source` is "smtp", "imap" or "webhook:<esp>"; `recipient` the address it reached us at,
    `token` the +token part of it (a signed ticket reference), if any.
    """
    if len(raw) > settings.EMAIL_MAX_BYTES:
        return IngestResult("dropped", detail="Larger than the email size limit.")
    from chat.email.parsing import email_parse

    parsed = email_parse(raw)
    message_id = _message_id_for(parsed, raw)
    if EmailMessage.objects.filter(message_id_header=message_id).exists():
        return IngestResult("duplicate", detail="Already stored.")
    if message_id_ticket(message_id) is not None:
        # Our own outbound mail came back (a forwarding loop): never a customer message.
        return IngestResult("dropped", detail="Our own message.")
    if parsed.is_bounce:
        _bounce_record(parsed)
        return IngestResult("bounce", detail=", ".join(parsed.bounced_recipients))
    if not parsed.from_address:
        return IngestResult("dropped", detail="No sender address.")
    try:
        return _store(
            raw, parsed, message_id=message_id, source=source, recipient=recipient, token=token
        )
    except IntegrityError:
        # The same Message-ID arrived by another door at the same moment; that one won.
        if EmailMessage.objects.filter(message_id_header=message_id).exists():
            return IngestResult("duplicate", detail="Already stored.")
        raise


def _bounce_record(parsed: ParsedEmail) -> None:
    """Mark the failed addresses on their contacts and, when the bounce returns one of our
    mails, that mail as failed."""
    from chat.email.outbound import email_bounce_record
    from chat.email.parsing import email_parse

    reason = parsed.bounce_reason or "The receiving server refused the mail."
    for address in parsed.bounced_recipients:
        contact_email_failing_mark(email=address, reason=reason)
    for attachment in parsed.attachments:
        if attachment.content_type in ("message/rfc822", "text/rfc822-headers"):
            returned = email_parse(attachment.content).message_id
            if returned and message_id_ticket(returned) is not None:
                email_bounce_record(message_id_header=returned, reason=reason)


def _store(
    raw: bytes, parsed: ParsedEmail, *, message_id: str, source: str, recipient: str, token: str
) -> IngestResult:
    from chat.email.outbound import email_ack_queue

    with transaction.atomic():
        contact = contact_for_email_sender(email=parsed.from_address, name=parsed.from_name)
        thread = _thread_find(parsed, token)
        ticket = _final(thread.ticket) if thread.ticket is not None else None
        conversation = thread.conversation
        if conversation is not None and ticket is not None and conversation.ticket_id != ticket.pk:
            conversation = None  # its ticket was merged; continue on the merged one
        new_ticket = False
        if ticket is None or ticket.status == Ticket.Status.CLOSED:
            # A closed ticket is final: a new one, linked to it (DOMAIN.md).
            conversation = conversation_open(
                contact=contact,
                channel=Conversation.Channel.EMAIL,
                subject=parsed.subject,
                follow_up_of=ticket,
            )
            new_ticket = True
        elif conversation is None:
            # Threaded by address or tag: the ticket's email thread, or a new one on it (the
            # ticket may have started as a chat).
            conversation = (
                Conversation.objects.filter(ticket=ticket, channel=Conversation.Channel.EMAIL)
                .order_by("-last_activity_at", "-pk")
                .first()
            ) or conversation_open(
                contact=contact, channel=Conversation.Channel.EMAIL, on_ticket=ticket
            )

        stored = email_attachments_store(conversation=conversation, items=parsed.attachments)
        body, quoted = _body(parsed)
        notes = [parsed.parse_error] if parsed.parse_error else []
        notes += stored.notes
        if not body and not stored.attachments:
            body = "(This email has no text.)"
        email = EmailMessage(
            direction=EmailMessage.Direction.INBOUND,
            message_id_header=message_id,
            in_reply_to=" ".join(parsed.in_reply_to)[:5000],
            references=" ".join(parsed.references)[:20000],
            from_address=parsed.from_address[:320],
            from_name=parsed.from_name[:200],
            to=parsed.to[:50],
            cc=parsed.cc[:50],
            subject=parsed.subject[:998],
            html=_html_with_cids(parsed.html, stored.cid_urls),
            has_remote_images=_has_remote_images(parsed.html),
            quoted_text=quoted,
            auto_submitted=parsed.auto_submitted,
            parse_error="\n".join(notes),
            source=source[:16],
            delivery_status=EmailMessage.Delivery.RECEIVED,
        )
        _raw_file(email, raw)
        write = message_create(
            conversation=conversation,
            sender_kind=Message.SenderKind.CUSTOMER,
            body=body,
            attachment_ids=[a.id for a in stored.attachments],
            email=email,
        )
        _forwarding_note(parsed, recipient)
        ticket = Ticket.objects.get(conversations=conversation)
        if new_ticket and not parsed.auto_submitted:
            email_ack_queue(ticket=ticket, contact=contact, parsed=parsed)
    log.info(
        "Email %s → ticket #%s (%s, %s)",
        source,
        ticket.number,
        "new" if new_ticket else thread.how,
        connection.schema_name,
    )
    return IngestResult(
        "stored",
        ticket_number=ticket.number,
        ticket_id=ticket.pk,
        message_id=write.message.pk,
        new_ticket=new_ticket,
    )


def _has_remote_images(html: str) -> bool:
    from chat.email.html_sanitize import email_html_has_remote_images

    return bool(html) and email_html_has_remote_images(html)
