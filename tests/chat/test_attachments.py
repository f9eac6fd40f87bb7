"""Chat attachments: only images and PDF, checked from their bytes; downloaded only by the
conversation's visitor and the workspace's agents, always inert."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context

from chat.models import Attachment, Conversation, Message
from chat.services.messages import message_create
from chat.services.visitors import PageContext, visitor_conversation_start
from chat.visitor_tokens import visitor_token_for
from tests.factories import host_of
from tests.tenants.agents.clients import owner_of, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_media")]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
HTML = b"<html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


def _visitor(tenant, name="Ana"):
    """A visitor with a conversation, and the token their widget holds."""
    with tenant_context(tenant):
        start = visitor_conversation_start(
            contact=None, prechat={"name": name}, context=PageContext()
        )
        return start.conversation.pk, visitor_token_for(start.contact)


def _upload(tenant, token, name, content, content_type="application/octet-stream"):
    client = Client(HTTP_HOST=host_of(tenant))
    return client.post(
        "/widget/api/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        HTTP_X_VISITOR_TOKEN=token,
    )


def _download(tenant, attachment_id, token=None, client=None):
    client = client or Client(HTTP_HOST=host_of(tenant))
    extra = {"HTTP_X_VISITOR_TOKEN": token} if token else {}
    return client.get(f"/attachments/{attachment_id}/", **extra)


def test_a_visitor_sends_a_picture_and_a_pdf(tenant):
    conversation_id, token = _visitor(tenant)

    picture = _upload(tenant, token, "shoe.png", PNG, "image/png")
    receipt = _upload(tenant, token, "receipt.pdf", PDF, "application/pdf")

    assert picture.status_code == receipt.status_code == 201
    assert picture.json()["content_type"] == "image/png"
    assert receipt.json() | {"id": "", "url": ""} == {
        "id": "",
        "url": "",
        "name": "receipt.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
    }
    with tenant_context(tenant):
        conversation = Conversation.objects.get(pk=conversation_id)
        message = message_create(
            conversation=conversation,
            sender_kind="customer",
            body="",
            attachment_ids=[picture.json()["id"], receipt.json()["id"]],
        ).message
        assert message.attachments.count() == 2
        assert Conversation.objects.get(pk=conversation_id).last_message_preview.startswith("📎")


@pytest.mark.parametrize(
    ("name", "content", "claimed"),
    [
        ("page.html", HTML, "text/html"),
        ("logo.svg", SVG, "image/svg+xml"),
        ("photo.png", HTML, "image/png"),  # lies about its type
        ("script.js", b"alert(1)", "application/javascript"),
    ],
)
def test_other_file_types_are_refused_and_nothing_is_stored(tenant, name, content, claimed):
    _, token = _visitor(tenant)

    response = _upload(tenant, token, name, content, claimed)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "file_type"
    assert "PNG, JPEG, GIF or WebP images and PDF" in response.json()["error"]["message"]
    with tenant_context(tenant):
        assert not Attachment.objects.exists()


def test_a_file_over_the_limit_is_refused(tenant, settings):
    settings.CHAT_ATTACHMENT_MAX_BYTES = 1024
    _, token = _visitor(tenant)

    response = _upload(tenant, token, "big.png", PNG + b"\x00" * 2048, "image/png")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "file_too_large"
    with tenant_context(tenant):
        assert not Attachment.objects.exists()


def test_a_misleading_name_gets_the_real_extension(tenant):
    _, token = _visitor(tenant)

    response = _upload(tenant, token, 'x.pdf.html"\r\nX-Evil: 1', PDF, "text/html")

    assert response.status_code == 201
    name = response.json()["name"]
    assert name.endswith(".pdf") and "\r" not in name and "\n" not in name and '"' not in name


def test_without_a_valid_token_nothing_is_uploaded(tenant):
    _visitor(tenant)

    for token in ("", "forged", None):
        response = Client(HTTP_HOST=host_of(tenant)).post(
            "/widget/api/attachments/",
            {"file": SimpleUploadedFile("a.png", PNG)},
            **({"HTTP_X_VISITOR_TOKEN": token} if token is not None else {}),
        )
        assert response.status_code == 401
    with tenant_context(tenant):
        assert not Attachment.objects.exists()


def test_downloads_are_for_the_visitor_and_the_agents_only(tenant):
    _, token = _visitor(tenant, "Ana")
    _, other_token = _visitor(tenant, "Bob")
    uploaded = _upload(tenant, token, "receipt.pdf", PDF).json()

    own = _download(tenant, uploaded["id"], token)
    agent = _download(tenant, uploaded["id"], client=signed_in(tenant, owner_of(tenant)))
    stranger = _download(tenant, uploaded["id"], other_token)
    anonymous = _download(tenant, uploaded["id"])
    unknown = _download(tenant, "00000000-0000-0000-0000-000000000000", token)

    assert own.status_code == agent.status_code == 200
    assert b"".join(own.streaming_content) == PDF
    assert own["Content-Disposition"].startswith("attachment;")
    assert own["X-Content-Type-Options"] == "nosniff"
    assert own["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert own["Content-Type"] == "application/pdf"
    assert stranger.status_code == anonymous.status_code == unknown.status_code == 404


def test_images_show_inline_but_stay_sandboxed(tenant):
    _, token = _visitor(tenant)
    uploaded = _upload(tenant, token, "shoe.png", PNG).json()

    response = _download(tenant, uploaded["id"], token)

    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_attachment_of_another_workspace_is_not_found(tenant, other_tenant):
    _, token = _visitor(tenant)
    uploaded = _upload(tenant, token, "receipt.pdf", PDF).json()
    _, their_token = _visitor(other_tenant)

    via_their_agent = _download(
        other_tenant, uploaded["id"], client=signed_in(other_tenant, owner_of(other_tenant))
    )
    via_their_visitor = _download(other_tenant, uploaded["id"], their_token)
    our_token_on_their_host = _download(other_tenant, uploaded["id"], token)

    assert via_their_agent.status_code == 404
    assert via_their_visitor.status_code == 404
    assert our_token_on_their_host.status_code == 404


def test_an_attachment_joins_only_a_message_of_its_own_conversation(tenant):
    first_id, token = _visitor(tenant, "Ana")
    second_id, _ = _visitor(tenant, "Bob")
    uploaded = _upload(tenant, token, "a.png", PNG).json()

    from django.core.exceptions import ValidationError

    with tenant_context(tenant):
        second = Conversation.objects.get(pk=second_id)
        with pytest.raises(ValidationError) as refused:
            message_create(
                conversation=second,
                sender_kind="customer",
                body="x",
                attachment_ids=[uploaded["id"]],
            )
        assert refused.value.code == "unknown_attachment"
        assert not Message.objects.filter(conversation=second).exists()
        first = Conversation.objects.get(pk=first_id)
        message_create(
            conversation=first, sender_kind="customer", body="x", attachment_ids=[uploaded["id"]]
        )
        with pytest.raises(ValidationError):
            message_create(
                conversation=first,
                sender_kind="customer",
                body="again",
                attachment_ids=[uploaded["id"]],
            )
        assert Message.objects.filter(conversation=first).count() == 1


def test_an_agent_uploads_to_a_conversation_of_their_workspace_only(tenant, other_tenant):
    conversation_id, _ = _visitor(tenant)
    ours = signed_in(tenant, owner_of(tenant))
    theirs = signed_in(other_tenant, owner_of(other_tenant))

    ok = ours.post(
        "/inbox/attachments/",
        {"conversation_id": conversation_id, "file": SimpleUploadedFile("a.pdf", PDF)},
    )
    refused = theirs.post(
        "/inbox/attachments/",
        {"conversation_id": conversation_id, "file": SimpleUploadedFile("a.pdf", PDF)},
    )

    assert ok.status_code == 201
    assert refused.status_code == 404
    with tenant_context(other_tenant):
        assert not Attachment.objects.exists()
    with tenant_context(tenant):
        assert Attachment.objects.get().uploaded_by_kind == "agent"


def test_the_visitor_cannot_download_files_of_internal_notes(tenant):
    conversation_id, token = _visitor(tenant)
    owner = owner_of(tenant)
    agent = signed_in(tenant, owner)
    uploaded = agent.post(
        "/inbox/attachments/",
        {"conversation_id": conversation_id, "file": SimpleUploadedFile("note.png", PNG)},
    ).json()
    with tenant_context(tenant):
        message_create(
            conversation=Conversation.objects.get(pk=conversation_id),
            sender_kind="agent",
            sender_agent=owner,
            body="internal",
            is_internal=True,
            attachment_ids=[uploaded["id"]],
        )

    assert _download(tenant, uploaded["id"], token).status_code == 404
    assert _download(tenant, uploaded["id"], client=agent).status_code == 200


def test_uploads_are_refused_while_chat_is_off_or_too_fast(tenant, settings):
    _, token = _visitor(tenant)
    from chat.selectors.widget import widget_settings_get

    with tenant_context(tenant):
        row = widget_settings_get()
        row.enabled = False
        row.save(update_fields=["enabled"])
    switched_off = _upload(tenant, token, "a.png", PNG)
    with tenant_context(tenant):
        row.enabled = True
        row.save(update_fields=["enabled"])
    settings.WIDGET_RATE_MESSAGES_PER_VISITOR = (1, 60)
    first = _upload(tenant, token, "a.png", PNG)
    second = _upload(tenant, token, "b.png", PNG)

    assert switched_off.status_code == 403
    assert switched_off.json()["error"]["code"] == "widget_disabled"
    assert first.status_code == 201
    assert second.status_code == 429
    assert second.json()["error"]["retry_after"] > 0
    with tenant_context(tenant):
        assert list(Attachment.objects.values_list("name", flat=True)) == ["a.png"]
