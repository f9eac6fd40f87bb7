"""The fixture corpus through ingestion: threading onto our earlier mail, the text agents see,
what is left out, and what never gets an automatic answer."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from chat.email.ingest import email_ingest
from chat.models import Conversation, EmailMessage, EmailSettings, Message
from chat.services.replies import conversation_reply
from helpdesk.contacts.models import Contact
from helpdesk.tickets.models import Ticket
from tests.chat.email.corpus import corpus_raw, corpus_with_headers
from tests.chat.email.mail import mail_bytes
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def _ticket_with_our_reply(tenant, agent, sender: str, subject: str) -> tuple[Ticket, str]:
    """The customer wrote first and the agent answered by mail; returns our Message-ID."""
    email_ingest(mail_bytes(sender=sender, subject=subject), source="smtp")
    ticket = Ticket.objects.get(requester__email=sender.split("<")[-1].rstrip(">").lower())
    conversation = Conversation.objects.select_related("contact").get(ticket=ticket)
    write = conversation_reply(conversation=conversation, actor=agent, body="Let me check.")
    return ticket, EmailMessage.objects.get(message=write.message).message_id_header


@pytest.mark.parametrize(
    ("fixture", "sender", "visible", "cut"),
    [
        (
            "gmail_reply.eml",
            "anna.schmidt.1987@gmail.com",
            "the parcel still hasn’t arrived",
            "On Mon, Jan 6",
        ),
        (
            "outlook_reply.eml",
            "john.miller@contoso.com",
            "I still need the invoice as a PDF",
            "From: Shop Support",
        ),
        (
            "apple_mail_reply.eml",
            "claire.dubois@icloud.com",
            "le pull est trop petit",
            "Le 6 janv. 2025",
        ),
        (
            "outlook_original_message.eml",
            "sarah.connor@cyberdyne.example",
            "please ship it to 12 Elm Street",
            "-----Original Message-----",
        ),
        (
            "iso_2022_jp.eml",
            "taro.yamada@example.jp",
            "注文した商品がまだ届いていません",
            "Shop Support",
        ),
        ("iphone_reply_de.eml", "jonas.weber@web.de", "Rücksendung heute", "Von meinem iPhone"),
    ],
)
def test_client_replies_thread_onto_our_mail_and_show_only_the_new_text(
    tenant, fixture, sender, visible, cut
):
    agent = AgentFactory(tenant=tenant)
    with tenant_context(tenant):
        ticket, ours = _ticket_with_our_reply(tenant, agent, sender, "Question")
        raw = corpus_with_headers(fixture, {"In-Reply-To": f"<{ours}>", "References": f"<{ours}>"})
        # The quote really is in the fixture (ISO-2022-JP is checked after decoding).
        assert fixture.startswith("iso") or cut in raw.decode("utf-8", "replace")
        result = email_ingest(raw, source="imap")
        message = Message.objects.select_related("email").get(pk=result.message_id)
    assert result.status == "stored" and result.ticket_id == ticket.pk and not result.new_ticket
    assert visible in message.body
    assert cut not in message.body
    assert cut in message.email.quoted_text


def test_charsets_and_encoded_subjects_arrive_exact(tenant):
    with tenant_context(tenant):
        email_ingest(corpus_raw("gb2312_subject_body.eml"), source="smtp")
        email_ingest(corpus_raw("windows_1252.eml"), source="smtp")
        subjects = set(Ticket.objects.values_list("subject", flat=True))
        bodies = " ".join(Message.objects.values_list("body", flat=True))
    assert subjects == {"关于订单4715的退款问题", "Double charge – order #4716"}
    assert "我在1月3日申请了退款" in bodies and "49,90 €" in bodies


def test_winmail_dat_is_unpacked_into_its_files(tenant):
    with tenant_context(tenant):
        email_ingest(corpus_raw("tnef_winmail.eml"), source="smtp")
        names = sorted(Message.objects.get().attachments.values_list("name", flat=True))
    assert names == ["Invoice 4711.pdf", "Preisübersicht März.xlsx"]


def test_inline_images_point_at_the_stored_file(tenant):
    with tenant_context(tenant):
        email_ingest(corpus_raw("inline_image.eml"), source="smtp")
        email = EmailMessage.objects.get()
        attachment = email.message.attachments.get()
    assert "cid:" not in email.html
    assert f"/attachments/{attachment.id}" in email.html or str(attachment.id) in email.html


def test_hostile_mail_is_stored_inert(tenant):
    with tenant_context(tenant):
        email_ingest(corpus_raw("hostile_html.eml"), source="smtp")
        email_ingest(corpus_raw("svg_attachment.eml"), source="smtp")
        email_ingest(corpus_raw("header_injection.eml"), source="smtp")
        html = " ".join(EmailMessage.objects.values_list("html", flat=True)).lower()
        names = set(Message.objects.values_list("attachments__name", flat=True)) - {None}
        notes = " ".join(EmailMessage.objects.values_list("parse_error", flat=True))
        subjects = list(Ticket.objects.values_list("subject", flat=True))
    for needle in ("<script", "onerror", "javascript:", "<svg", "<iframe", "<style", "<base"):
        assert needle not in html
    # "photo.png" is an HTML page under an image's name: its bytes give it away.
    assert names == {"passwd Bcc: x@evil.example.txt", "notes Bcc: x@evil.example.txt"}
    for refused in ("logo.svg", "invoice.html", "photo.png", "invoicefdp.exe"):
        assert refused in notes
    assert all("\r" not in s and "\n" not in s for s in subjects)


def test_malformed_mail_is_kept_raw_with_the_error_shown(tenant):
    raw = corpus_raw("malformed_mime.eml")
    with tenant_context(tenant):
        result = email_ingest(raw, source="smtp")
        email = EmailMessage.objects.get()
        with email.raw.open("rb") as handle:
            kept = handle.read()
    assert result.status == "stored"
    assert "x-foo-bar" in email.parse_error
    assert kept == raw


def test_automatic_mail_gets_no_acknowledgement_but_a_person_does(
    tenant, smtp_sink, django_capture_on_commit_callbacks
):
    with tenant_context(tenant), django_capture_on_commit_callbacks(execute=True):
        EmailSettings.objects.update_or_create(pk=1, defaults={"ack_enabled": True})
        for name in ("out_of_office.eml", "mailing_list.eml"):
            email_ingest(corpus_raw(name), source="smtp")
        assert Ticket.objects.count() == 2  # stored, just never answered automatically
        for n in range(5):
            email_ingest(mail_bytes(subject=f"Question {n}"), source="smtp")
    assert smtp_sink.to("maria.rossi@contoso.it") == []
    assert smtp_sink.to("lena.berg@example.com") == []
    # At most 3 acknowledgements per address per hour.
    assert len(smtp_sink.to("ana@example.com")) == 3
    assert len(smtp_sink.messages) == 3


def test_a_bounce_of_our_reply_marks_it_failed_and_the_address_failing(tenant):
    agent = AgentFactory(tenant=tenant)
    with tenant_context(tenant):
        ticket, ours = _ticket_with_our_reply(
            tenant, agent, "Nobody <nobody@customer.example>", "Your order #4717"
        )
        raw = corpus_raw("dsn_bounce.eml").replace(
            b"<20250106104600.1005.c0ffee00@mail.localhost>", f"<{ours}>".encode()
        )
        result = email_ingest(raw, source="smtp")
        reply = EmailMessage.objects.get(message_id_header=ours)
        requester = Contact.objects.get(pk=ticket.requester_id)
        tickets = Ticket.objects.count()
    assert result.status == "bounce" and tickets == 1
    assert reply.delivery_status == "failed" and reply.delivery_error.startswith("Bounced:")
    assert requester.email_failing_since is not None and requester.email_failure_reason
