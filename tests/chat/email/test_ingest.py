"""Ingestion and threading (DOMAIN.md order), through the one service every door calls."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry
from django_tenants.utils import tenant_context

from chat.email.ingest import email_ingest
from chat.email.receive import email_receive
from chat.email.references import outbound_message_id, reply_address
from chat.models import Conversation, EmailMessage, Message
from chat.services.replies import conversation_reply
from helpdesk.contacts.models import Contact
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.services.status import ticket_status_change
from tests.chat.email.mail import mail_bytes
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def _ingest(raw: bytes, **kw):
    return email_ingest(
        raw, source="smtp", recipient=kw.pop("recipient", "acme@mail.localhost"), **kw
    )


def _reply(ticket: Ticket, agent, body="Thanks, it ships today."):
    conversation = Conversation.objects.select_related("contact").get(ticket=ticket)
    return conversation_reply(conversation=conversation, actor=agent, body=body)


def test_a_new_mail_opens_a_ticket_with_the_sender_as_requester(tenant):
    with tenant_context(tenant):
        result = _ingest(mail_bytes(message_id="m1@example.com"))
        ticket = Ticket.objects.select_related("requester").get()
        message = Message.objects.get()
        email = EmailMessage.objects.get()
        with email.raw.open("rb") as handle:
            raw = handle.read()
    assert result.status == "stored" and result.new_ticket
    assert ticket.number == 1001 and ticket.subject == "Where is my order?"
    assert ticket.status == Ticket.Status.NEW and ticket.channels == ["email"]
    assert ticket.requester.email == "ana@example.com" and ticket.requester.name == "Ana Silva"
    assert ticket.requester.email_verified
    assert message.body == "Hello, my order #4411 has not arrived yet."
    assert message.sender_kind == "customer" and ticket.unread_count == 1
    assert email.message_id_header == "m1@example.com" and email.source == "smtp"
    assert b"Where is my order?" in raw


def test_the_same_message_id_twice_is_stored_once(tenant):
    raw = mail_bytes(message_id="twice@example.com")
    with tenant_context(tenant):
        first = _ingest(raw)
        again = email_ingest(raw, source="webhook:mailgun")
        assert Message.objects.count() == 1 and Ticket.objects.count() == 1
    assert first.status == "stored" and again.status == "duplicate"


def test_a_mail_without_message_id_delivered_twice_is_stored_once(tenant):
    raw = mail_bytes().replace(b"Message-ID:", b"X-Old-Message-ID:")
    with tenant_context(tenant):
        assert _ingest(raw).status == "stored"
        assert _ingest(raw).status == "duplicate"
        assert Message.objects.count() == 1


def test_reply_round_trip_threads_by_in_reply_to(
    tenant, smtp_sink, django_capture_on_commit_callbacks
):
    agent = AgentFactory(tenant=tenant, name="Mei")
    with tenant_context(tenant):
        _ingest(mail_bytes(message_id="first@example.com"))
        ticket = Ticket.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            write = _reply(ticket, agent)
        sent = EmailMessage.objects.get(message=write.message)
        assert sent.delivery_status == "sent" and sent.sent_at is not None
        [mail] = smtp_sink.messages
        assert mail["In-Reply-To"] == "<first@example.com>"
        assert "<first@example.com>" in mail["References"]
        assert mail["Message-ID"] == f"<{sent.message_id_header}>"
        assert "[#1001]" in mail["Subject"]
        assert mail["To"] == "ana@example.com"
        assert mail["Reply-To"] == reply_address(slug="acme", ticket_id=ticket.pk)
        assert "Thanks, it ships today." in smtp_sink.text(mail)

        answer = _ingest(
            mail_bytes(
                subject="Re: Where is my order?",
                body="Great, thank you!\n\nOn Mon, Mei wrote:\n> Thanks, it ships today.",
                in_reply_to=sent.message_id_header,
                references=["first@example.com", sent.message_id_header],
            )
        )
        assert answer.status == "stored" and not answer.new_ticket
        assert answer.ticket_id == ticket.pk
        assert Ticket.objects.count() == 1
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.OPEN  # the agent's reply opened it


def test_references_are_searched_newest_first(tenant):
    with tenant_context(tenant):
        _ingest(mail_bytes(message_id="a@example.com"))
        _ingest(mail_bytes(message_id="b@example.com", subject="Another thing"))
        _a, b = Ticket.objects.order_by("number")
        result = _ingest(
            mail_bytes(references=["a@example.com", "b@example.com"], subject="Re: both")
        )
    assert result.ticket_id == b.pk


def test_a_forged_reference_opens_a_new_ticket(tenant):
    with tenant_context(tenant):
        _ingest(mail_bytes(message_id="orig@example.com"))
        ticket = Ticket.objects.get()
        real = outbound_message_id(ticket_id=ticket.pk)
        forged = real.rsplit(".", 1)[0][:-16] + "a" * 16 + "@" + real.split("@")[1]
        result = _ingest(
            mail_bytes(
                in_reply_to=forged,
                subject=f"Re: [#{ticket.number}]",
                sender="Mallory <mallory@evil.example>",
            )
        )
        assert result.new_ticket and Ticket.objects.count() == 2
        # Our own signed id (not stored, e.g. the reply was sent by another door) threads.
        ok = _ingest(mail_bytes(in_reply_to=real, subject="Re: x"))
        assert ok.ticket_id == ticket.pk


def test_a_reference_signed_for_another_workspace_matches_nothing(tenant, other_tenant):
    with tenant_context(other_tenant):
        _ingest(mail_bytes(message_id="g1@example.com"), recipient="globex@mail.localhost")
        foreign = outbound_message_id(ticket_id=Ticket.objects.get().pk)
    with tenant_context(tenant):
        _ingest(mail_bytes(message_id="a1@example.com"))
        result = _ingest(mail_bytes(in_reply_to=foreign))
        assert result.new_ticket and Ticket.objects.count() == 2


def test_the_reply_address_threads_and_a_forged_token_does_not(tenant):
    with tenant_context(tenant):
        _ingest(mail_bytes(message_id="orig@example.com"))
        ticket = Ticket.objects.get()
        token = reply_address(slug="acme", ticket_id=ticket.pk).split("@")[0].split("+")[1]
        good = _ingest(mail_bytes(subject="no headers"), token=token)
        bad = _ingest(mail_bytes(subject="no headers"), token=f"t{ticket.pk}.aaaaaaaaaaaaaaaa")
    assert good.ticket_id == ticket.pk and not good.new_ticket
    assert bad.new_ticket


def test_subject_tag_threads_only_for_participants(tenant):
    with tenant_context(tenant):
        _ingest(mail_bytes(message_id="orig@example.com"))
        ticket = Ticket.objects.get()
        same = _ingest(mail_bytes(subject=f"Re: Where is my order? [#{ticket.number}]"))
        spoof = _ingest(
            mail_bytes(
                subject=f"Re: [#{ticket.number}] give me the refund",
                sender="Mallory <mallory@evil.example>",
            )
        )
        assert same.ticket_id == ticket.pk
        assert spoof.new_ticket
        assert not Message.objects.filter(
            conversation__ticket=ticket, body__contains="refund"
        ).exists()


def test_a_reply_to_a_solved_ticket_reopens_it_and_to_a_closed_one_opens_a_follow_up(tenant):
    agent = AgentFactory(tenant=tenant)
    with tenant_context(tenant):
        _ingest(mail_bytes(message_id="orig@example.com"))
        ticket = Ticket.objects.get()
        ticket_status_change(ticket=ticket, status="solved", actor=agent)
        _ingest(mail_bytes(in_reply_to="orig@example.com", message_id="r1@example.com"))
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.OPEN
        ticket_status_change(ticket=ticket, status="solved", actor=agent)
        ticket_status_change(ticket=ticket, status="closed", actor=agent)
        result = _ingest(mail_bytes(in_reply_to="r1@example.com", body="It broke again"))
        follow_up = Ticket.objects.get(pk=result.ticket_id)
        ticket.refresh_from_db()
        kept = ticket.conversations.count()
    assert result.new_ticket and follow_up.follow_up_of_id == ticket.pk
    assert ticket.status == Ticket.Status.CLOSED
    assert kept == 1  # the closed ticket keeps its history


def test_a_bounce_marks_the_address_failing_and_opens_nothing(tenant):
    dsn = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        b"To: acme@mail.localhost\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <dsn1@mx.example.com>\r\nAuto-Submitted: auto-replied\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; ana@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n--B--\r\n"
    )
    with tenant_context(tenant):
        _ingest(mail_bytes(message_id="orig@example.com"))
        result = _ingest(dsn)
        contact = Contact.objects.get(email="ana@example.com")
        assert result.status == "bounce"
        assert Ticket.objects.count() == 1 and Message.objects.count() == 1
    assert contact.email_failing_since is not None
    assert "User unknown" in contact.email_failure_reason


def test_our_own_mail_coming_back_is_dropped(tenant):
    with tenant_context(tenant):
        _ingest(mail_bytes(message_id="orig@example.com"))
        ours = outbound_message_id(ticket_id=Ticket.objects.get().pk)
        result = _ingest(mail_bytes(message_id=ours, sender="Acme <acme@mail.localhost>"))
        assert result.status == "dropped" and Message.objects.count() == 1


def test_a_verified_chat_shopper_writing_by_email_is_one_contact(tenant):
    with tenant_context(tenant):
        shopper = Contact.objects.create(
            name="Ana",
            email="ana@example.com",
            identity_verified=True,
            external_id="c-1",
            email_verified=True,
        )
        typed = Contact.objects.create(name="Someone", email="ana@example.com")  # pre-chat form
        _ingest(mail_bytes(sender="ANA@Example.com"))
        ticket = Ticket.objects.get()
        assert ticket.requester_id == shopper.pk != typed.pk
        assert Contact.objects.count() == 2


def test_mail_to_two_workspaces_lands_in_each_once_and_unknown_is_refused(tenant, other_tenant):
    raw = mail_bytes(to="acme@mail.localhost, globex@mail.localhost", message_id="x@example.com")
    deliveries = email_receive(
        raw,
        recipients=[
            "acme@mail.localhost",
            "globex@mail.localhost",
            "nobody@mail.localhost",
            "acme@elsewhere.example",
        ],
        source="smtp",
    )
    assert [d.accepted for d in deliveries] == [True, True, False, False]
    for workspace in (tenant, other_tenant):
        with tenant_context(workspace):
            assert Ticket.objects.count() == 1 and Message.objects.count() == 1


def test_a_reply_to_a_customer_without_address_is_refused_and_nothing_is_stored(tenant):
    from django.core.exceptions import ValidationError

    from chat.services.conversations import conversation_open

    agent = AgentFactory(tenant=tenant)
    with tenant_context(tenant):
        conversation = conversation_open(
            contact=Contact.objects.create(name="No mail"), channel="email"
        )
        with pytest.raises(ValidationError, match="no email address"):
            conversation_reply(conversation=conversation, actor=agent, body="hi")
        assert Message.objects.count() == 0


def test_a_refused_recipient_marks_the_reply_failed_with_the_reason(
    tenant, smtp_sink, django_capture_on_commit_callbacks
):
    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such user here"

    smtp_sink.handle_RCPT = refuse
    agent = AgentFactory(tenant=tenant)
    with tenant_context(tenant):
        _ingest(mail_bytes(message_id="orig@example.com"))
        with django_capture_on_commit_callbacks(execute=True):
            write = _reply(Ticket.objects.get(), agent)
        email = EmailMessage.objects.get(message=write.message)
    assert email.delivery_status == "failed"
    assert "No such user here" in email.delivery_error


def test_an_unreachable_mail_server_is_retried_then_marked_failed(
    tenant, settings, django_capture_on_commit_callbacks
):
    from chat.email.outbound import email_deliver
    from tests.daphne import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    agent = AgentFactory(tenant=tenant)
    with tenant_context(tenant):
        _ingest(mail_bytes(message_id="orig@example.com"))
        # The worker's first attempt fails; the task asks Celery for a retry.
        with pytest.raises(Retry), django_capture_on_commit_callbacks(execute=True):
            _reply(Ticket.objects.get(), agent)
        email = EmailMessage.objects.get(direction="out")
        assert email.delivery_status == "queued" and email.delivery_attempts == 1
        assert email.delivery_error.startswith("Retrying:")
        # The last attempt gives up and says why.
        assert email_deliver(email_id=email.pk, final_attempt=True) == "failed"
        email.refresh_from_db()
    assert email.delivery_attempts == 2
    assert "Could not send the mail" in email.delivery_error
