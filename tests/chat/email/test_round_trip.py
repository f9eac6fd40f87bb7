"""The whole loop on real sockets: smtplib → built-in receiver → ticket → agent reply out through
a local SMTP server → the customer's reply with In-Reply-To → the same ticket."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage as Mail
from email.utils import make_msgid

import pytest
from django_tenants.utils import tenant_context

from chat.email.smtp_receiver import InboundSmtpServer
from chat.models import Conversation, EmailMessage, EmailSettings, Message
from chat.services.replies import conversation_reply
from helpdesk.tickets.models import Ticket
from tests.daphne import free_port
from tests.factories import AgentFactory

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)


@pytest.fixture
def receiver(transactional_db):
    server = InboundSmtpServer(host="127.0.0.1", port=free_port())
    server.start()
    yield server
    server.stop()


def _send(receiver: InboundSmtpServer, mail: Mail) -> None:
    with smtplib.SMTP(receiver.host, receiver.port, timeout=30) as client:
        assert client.send_message(mail) == {}


def test_mail_in_reply_out_and_the_answer_threads_onto_the_same_ticket(receiver, smtp_sink, tenant):
    agent = AgentFactory(tenant=tenant, name="Mei Chen")
    with tenant_context(tenant):
        EmailSettings.objects.update_or_create(
            pk=1, defaults={"ack_enabled": True, "support_address": "help@acme-shop.example"}
        )

    first = Mail()
    first["From"] = "Ana Silva <ana@example.com>"
    first["To"] = "acme@mail.localhost"
    first["Subject"] = "Pedido 4411 não chegou"
    first["Message-ID"] = make_msgid(domain="example.com")
    first.set_content("Olá, o meu pedido 4411 ainda não chegou.")
    first.add_alternative("<p>Olá, o meu pedido <b>4411</b> ainda não chegou.</p>", subtype="html")
    first.add_attachment(PNG, maintype="image", subtype="png", filename="recibo.png")
    _send(receiver, first)

    with tenant_context(tenant):
        ticket = Ticket.objects.select_related("requester").get()
        conversation = Conversation.objects.select_related("contact").get(ticket=ticket)
        inbound = EmailMessage.objects.get(direction="in")
        message = inbound.message
        attachments = list(message.attachments.values_list("name", "content_type"))
        assert ticket.subject == "Pedido 4411 não chegou" and ticket.number == 1001
        assert ticket.requester.email == "ana@example.com"
        assert message.body == "Olá, o meu pedido 4411 ainda não chegou."
        assert "<b>4411</b>" in inbound.html
        assert attachments == [("recibo.png", "image/png")]

        # The acknowledgement went out, marked automatic, with the ticket number.
        [ack] = smtp_sink.messages
        assert ack["Auto-Submitted"] == "auto-replied"
        assert "1001" in ack["Subject"] and ack["To"] == "ana@example.com"
        assert ack["In-Reply-To"] == first["Message-ID"]

        write = conversation_reply(
            conversation=conversation, actor=agent, body="Olá Ana, o pedido sai hoje."
        )
        outbound = EmailMessage.objects.get(message=write.message)
        assert outbound.delivery_status == "sent"

    reply = smtp_sink.messages[-1]
    assert reply["From"] == "Acme <help@acme-shop.example>"
    assert reply["To"] == "ana@example.com"
    assert reply["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in reply["References"]
    assert reply["Message-ID"] == f"<{outbound.message_id_header}>"
    assert reply["Subject"] == "Re: Pedido 4411 não chegou [#1001]"
    assert reply["Reply-To"].startswith("acme+t")
    assert "Auto-Submitted" not in reply
    assert "o pedido sai hoje" in smtp_sink.text(reply)

    # The customer answers from their mail client, quoting us.
    answer = Mail()
    answer["From"] = "Ana Silva <ana@example.com>"
    answer["To"] = reply["Reply-To"]
    answer["Subject"] = "Re: " + reply["Subject"]
    answer["Message-ID"] = make_msgid(domain="example.com")
    answer["In-Reply-To"] = reply["Message-ID"]
    answer["References"] = f"{first['Message-ID']} {reply['Message-ID']}"
    answer.set_content(
        "Obrigada!\n\nEm seg., 23 de nov. de 2026, Acme <help@acme-shop.example> escreveu:\n"
        "> Olá Ana, o pedido sai hoje.\n"
    )
    _send(receiver, answer)

    with tenant_context(tenant):
        assert Ticket.objects.count() == 1
        last = Message.objects.filter(sender_kind="customer").order_by("-pk").first()
        assert last is not None and last.conversation_id == conversation.pk
        assert last.body == "Obrigada!"
        assert "o pedido sai hoje" in last.email.quoted_text
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.OPEN and ticket.unread_count == 1
