"""Workspace settings: name (in public), logo, timezone, default language. Admins only."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tenants.models import Tenant
from tenants.workspace.models import WorkspaceSettings
from tests.factories import AgentFactory
from tests.tenants.agents.clients import (
    client_for,
    in_schema,
    owner_of,
    signed_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_media")]


def _form(**overrides):
    data = {"name": "Acme Outfitters", "timezone": "Asia/Tokyo", "default_language": "ja"}
    data.update(overrides)
    return data


def _settings(tenant):
    return in_schema(tenant, lambda: WorkspaceSettings.objects.get())


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 300), (10, 90, 200, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_admin_saves_name_timezone_and_language(tenant, other_tenant):
    admin = AgentFactory(tenant=tenant, role="admin")

    response = signed_in(tenant, admin).post("/settings/", _form(name="  Acme   Outfitters "))

    assert response.status_code == 302
    assert Tenant.objects.get(pk=tenant.pk).name == "Acme Outfitters"
    assert Tenant.objects.get(pk=other_tenant.pk).name == "Globex"
    row = _settings(tenant)
    assert (row.timezone, row.default_language) == ("Asia/Tokyo", "ja")
    assert b"Acme Outfitters" in signed_in(tenant, admin).get("/").content
    assert _settings(other_tenant).timezone == "UTC"


def test_new_agents_start_with_the_workspace_defaults(tenant, django_capture_on_commit_callbacks):
    client = signed_in(tenant, owner_of(tenant))
    client.post("/settings/", _form())
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/team/invite/", {"email": "kenji@example.com", "role": "agent"})
    from django.core import mail

    path = "/invite/" + mail.outbox[-1].body.split("/invite/")[1].split("/")[0] + "/"
    client_for(tenant).post(
        path, {"name": "Kenji", "password1": "kenji-Pass-4421x", "password2": "kenji-Pass-4421x"}
    )

    from tenants.agents.models import User

    kenji = in_schema(tenant, lambda: User.objects.get(email="kenji@example.com"))
    assert (kenji.timezone, kenji.language) == ("Asia/Tokyo", "ja")


def test_agent_cannot_change_settings(tenant):
    agent = AgentFactory(tenant=tenant)
    client = signed_in(tenant, agent)

    page = client.get("/settings/")
    post = client.post("/settings/", _form(name="Hijacked"))

    assert page.status_code == post.status_code == 403
    assert Tenant.objects.get(pk=tenant.pk).name == "Acme"
    assert _settings(tenant).timezone == "UTC"
    assert b"Settings" not in client.get("/").content.split(b"<main")[0]  # not in the sidebar


INVALID = [
    {"name": ""},
    {"name": "   "},
    {"name": "x" * 121},
    {"name": "Acme\r\nBcc: victim@example.com"},
    {"timezone": "Nowhere/Land"},
    {"default_language": "klingon"},
]


def test_invalid_settings_are_refused_and_nothing_changes(tenant):
    client = signed_in(tenant, owner_of(tenant))

    for overrides in INVALID:
        response = client.post("/settings/", _form(**overrides))

        assert response.status_code == 400, overrides
        assert b"errorlist" in response.content, overrides
    assert Tenant.objects.get(pk=tenant.pk).name == "Acme"
    row = _settings(tenant)
    assert (row.timezone, row.default_language) == ("UTC", "en")


def test_name_with_markup_is_shown_inert(tenant):
    client = signed_in(tenant, owner_of(tenant))

    client.post("/settings/", _form(name="<svg onload=alert(1)>"))

    page = client.get("/").content
    assert b"<svg onload" not in page
    assert b"&lt;svg onload=alert(1)&gt;" in page


def test_logo_upload_is_served_by_this_workspace_and_shown_on_sign_in(tenant, other_tenant):
    client = signed_in(tenant, owner_of(tenant))

    response = client.post(
        "/settings/", _form(logo=SimpleUploadedFile("logo.png", _png(), "image/png"))
    )

    assert response.status_code == 302
    url = in_schema(tenant, lambda: WorkspaceSettings.objects.get().logo.url)
    assert url.startswith("/media/acme/logos/")
    served = client_for(tenant).get(url)
    assert served.status_code == 200 and served["X-Content-Type-Options"] == "nosniff"
    assert url.encode() in client_for(tenant).get("/accounts/login/").content
    assert client_for(other_tenant).get(url).status_code == 404


def test_non_image_logo_is_refused(tenant):
    client = signed_in(tenant, owner_of(tenant))

    response = client.post(
        "/settings/",
        _form(logo=SimpleUploadedFile("logo.png", b"<html>not an image</html>", "image/png")),
    )

    assert response.status_code == 400
    assert not _settings(tenant).logo
    assert _settings(tenant).timezone == "UTC"


def test_logo_can_be_removed(tenant):
    client = signed_in(tenant, owner_of(tenant))
    client.post("/settings/", _form(logo=SimpleUploadedFile("l.png", _png(), "image/png")))

    client.post("/settings/", _form(logo_remove="on"))

    assert not _settings(tenant).logo
