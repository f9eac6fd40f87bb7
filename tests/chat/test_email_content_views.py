"""An email's HTML and raw message for agents: sandboxed, inert, and only in their workspace."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django_tenants.utils import tenant_context

from chat.models import EmailMessage
from chat.services.messages import message_create
from chat.visitor_tokens import visitor_token_for
from helpdesk.contacts.models import Contact
from tests.factories import ConversationFactory
from tests.tenants.agents.clients import client_for, owner_of, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_media")]

HOSTILE_HTML = (
    '<p>Hello <b>team</b></p><img src="https://tracker.example/pixel.png">'
    "<img src=x onerror=alert(1)><script>alert(2)</script>"
)
RAW = (
    b"From: Ana <ana@example.com>\r\nTo: help@acme.example\r\nSubject: Order 4411\r\n"
    b"Message-ID: <m1@example.com>\r\n\r\nWhere is my order?\r\n"
)
POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"


def email_message(tenant, *, html: str = HOSTILE_HTML, raw: bytes | None = RAW, marker="m1"):
    """An inbound email (conversation, message, mail side) in `tenant`; returns the message id."""
    with tenant_context(tenant):
        contact = Contact.objects.create(name="Ana", email="ana@example.com")
        conversation = ConversationFactory(contact=contact, channel="email", subject="Order 4411")
        message = message_create(
            conversation=conversation, sender_kind="customer", body="Where is my order?"
        ).message
        email = EmailMessage.objects.create(
            message=message,
            direction="in",
            message_id_header=f"<{marker}@example.com>",
            from_address="ana@example.com",
            from_name="Ana",
            subject="Order 4411",
            html=html,
            has_remote_images=True,
            delivery_status="received",
        )
        if raw is not None:
            email.raw.save("mail.eml", ContentFile(raw))
        return message.pk


def chat_message(tenant) -> int:
    with tenant_context(tenant):
        conversation = ConversationFactory(contact=Contact.objects.create(name="Ben"))
        write = message_create(conversation=conversation, sender_kind="customer", body="Hi")
        return write.message.pk


# ---- The HTML ---------------------------------------------------------------------------------


def test_the_html_is_served_as_a_sandboxed_document_without_remote_images(tenant):
    message_id = email_message(tenant)

    response = signed_in(tenant, owner_of(tenant)).get(f"/inbox/email/{message_id}/html/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Security-Policy"] == POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    html = response.content.decode()
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html
    assert "<p>Hello <b>team</b></p>" in html


def test_remote_images_are_allowed_only_when_asked_for(tenant):
    message_id = email_message(tenant)
    client = signed_in(tenant, owner_of(tenant))

    with_images = client.get(f"/inbox/email/{message_id}/html/?images=1")
    other_value = client.get(f"/inbox/email/{message_id}/html/?images=yes")

    assert with_images["Content-Security-Policy"] == f"{POLICY} https: http:"
    # Only img-src widens: still sandboxed, still no script, frames or connections.
    assert with_images["Content-Security-Policy"].startswith("sandbox; default-src 'none';")
    assert other_value["Content-Security-Policy"] == POLICY


def test_a_message_without_html_or_without_mail_is_not_found(tenant):
    plain = email_message(tenant, html="", marker="plain")
    chat = chat_message(tenant)
    client = signed_in(tenant, owner_of(tenant))

    assert client.get(f"/inbox/email/{plain}/html/").status_code == 404
    assert client.get(f"/inbox/email/{chat}/html/").status_code == 404
    assert client.get(f"/inbox/email/{chat}/raw/").status_code == 404
    assert client.get("/inbox/email/999999/html/").status_code == 404
    assert client.get("/inbox/email/99999999999999999999/raw/").status_code == 404


# ---- The raw message --------------------------------------------------------------------------


def test_the_raw_message_downloads_as_an_eml_attachment(tenant):
    message_id = email_message(tenant)

    response = signed_in(tenant, owner_of(tenant)).get(f"/inbox/email/{message_id}/raw/")

    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="message-{message_id}.eml"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == RAW


def test_an_email_without_a_kept_raw_message_has_no_download(tenant):
    message_id = email_message(tenant, raw=None)

    response = signed_in(tenant, owner_of(tenant)).get(f"/inbox/email/{message_id}/raw/")

    assert response.status_code == 404


# ---- Who may read them ------------------------------------------------------------------------


def test_another_workspaces_email_is_not_found_by_the_same_id(tenant, other_tenant):
    # The same message id in both workspaces: a chat message here, an email there.
    ours = chat_message(tenant)
    theirs = email_message(other_tenant, html="<p>Globex secret</p>")
    assert ours == theirs
    client = signed_in(tenant, owner_of(tenant))

    html = client.get(f"/inbox/email/{theirs}/html/")
    raw = client.get(f"/inbox/email/{theirs}/raw/")

    assert html.status_code == raw.status_code == 404
    assert b"Globex secret" not in html.content
    assert b"Where is my order" not in b"".join(getattr(raw, "streaming_content", [raw.content]))
    # In its own workspace the same address works, so the 404 is the boundary.
    theirs_client = signed_in(other_tenant, owner_of(other_tenant))
    assert theirs_client.get(f"/inbox/email/{theirs}/html/").status_code == 200


def test_people_who_are_not_agents_of_the_workspace_are_refused(tenant, other_tenant):
    message_id = email_message(tenant)
    with tenant_context(tenant):
        visitor_token = visitor_token_for(Contact.objects.get(email="ana@example.com"))
    # An agent of another workspace carrying their session to this host.
    outsider = signed_in(other_tenant, owner_of(other_tenant))
    replayed = client_for(tenant)
    replayed.cookies = outsider.cookies

    for path in (f"/inbox/email/{message_id}/html/", f"/inbox/email/{message_id}/raw/"):
        anonymous = client_for(tenant).get(path)
        # The customer's own widget token is no key to the agents' copy.
        visitor = client_for(tenant).get(path, HTTP_X_VISITOR_TOKEN=visitor_token)
        foreign_session = replayed.get(path)
        for response in (anonymous, visitor, foreign_session):
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/?next=")
            assert b"Hello" not in response.content


def test_only_get_is_answered(tenant):
    message_id = email_message(tenant)
    client = signed_in(tenant, owner_of(tenant))

    response = client.post(f"/inbox/email/{message_id}/html/")

    assert response.status_code == 405
