"""Replies through an email provider's API (django-anymail), against a local server speaking
Postmark's HTTP API: the threading headers reach the provider, and its refusals show."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django_tenants.utils import tenant_context

from chat.email.ingest import email_ingest
from chat.models import Conversation, EmailMessage
from chat.services.replies import conversation_reply
from helpdesk.tickets.models import Ticket
from tests.chat.email.mail import mail_bytes
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


class FakePostmark(BaseHTTPRequestHandler):
    received: list[dict] = []
    answer: tuple[int, dict] = (200, {})

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        type(self).received.append(
            {"path": self.path, "token": self.headers["X-Postmark-Server-Token"], "body": body}
        )
        status, payload = type(self).answer
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def postmark(settings):
    FakePostmark.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePostmark)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "server-token-1",
        "POSTMARK_API_URL": f"http://127.0.0.1:{server.server_port}/",
    }
    yield FakePostmark
    server.shutdown()


def _reply(tenant, django_capture_on_commit_callbacks) -> EmailMessage:
    agent = AgentFactory(tenant=tenant)
    with tenant_context(tenant):
        email_ingest(mail_bytes(message_id="first@example.com"), source="smtp")
        conversation = Conversation.objects.select_related("contact").get(
            ticket=Ticket.objects.get()
        )
        with django_capture_on_commit_callbacks(execute=True):
            write = conversation_reply(conversation=conversation, actor=agent, body="On its way.")
        return EmailMessage.objects.get(message=write.message)


def test_a_reply_goes_out_through_the_providers_api_with_threading_headers(
    tenant, postmark, django_capture_on_commit_callbacks
):
    postmark.answer = (
        200,
        {
            "To": "ana@example.com",
            "SubmittedAt": "2026-11-22T03:00:00Z",
            "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d",
            "ErrorCode": 0,
            "Message": "OK",
        },
    )
    email = _reply(tenant, django_capture_on_commit_callbacks)

    [call] = postmark.received
    body = call["body"]
    headers = {h["Name"]: h["Value"] for h in body["Headers"]}
    assert call["path"] == "/email" and call["token"] == "server-token-1"
    assert body["To"] == "ana@example.com" and body["TextBody"] == "On its way."
    assert body["Subject"] == "Re: Where is my order? [#1001]"
    assert headers["In-Reply-To"] == "<first@example.com>"
    assert headers["Message-ID"] == f"<{email.message_id_header}>"
    assert email.delivery_status == "sent"


def test_a_refusal_by_the_provider_marks_the_reply_failed_with_its_reason(
    tenant, postmark, django_capture_on_commit_callbacks
):
    postmark.answer = (
        422,
        {"ErrorCode": 300, "Message": "Invalid 'To' address: 'ana@example.com'."},
    )
    email = _reply(tenant, django_capture_on_commit_callbacks)

    assert len(postmark.received) == 1  # not retried: the same answer would come back
    assert email.delivery_status == "failed"
    assert "The email provider refused the mail" in email.delivery_error
