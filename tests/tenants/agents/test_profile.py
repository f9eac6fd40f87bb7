"""The agent's profile: name, photo, language, timezone; the header status switch; media."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tenants.agents.models import User
from tests.factories import AgentFactory
from tests.tenants.agents.clients import (
    client_for,
    in_schema,
    owner_of,
    signed_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_media")]


def png(size=(64, 64), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def _form(**overrides):
    data = {"name": "Alex Agent", "language": "en", "timezone": "Europe/Paris"}
    data.update(overrides)
    return data


def _user(tenant, pk):
    return in_schema(tenant, lambda: User.objects.get(pk=pk))


def test_profile_saves_name_language_and_timezone(tenant):
    agent = AgentFactory(tenant=tenant)
    client = signed_in(tenant, agent)

    response = client.post("/profile/", _form(name="  Alex   Smith ", language="de"))

    assert response.status_code == 302
    stored = _user(tenant, agent.pk)
    assert (stored.name, stored.language, stored.timezone) == ("Alex Smith", "de", "Europe/Paris")


INVALID_PROFILES = [
    {"timezone": "Mars/Olympus_Mons"},
    {"timezone": "'; DROP TABLE agents_user; --"},
    {"language": "xx"},
    {"name": ""},
    {"name": "a" * 121},
    {"name": "Line\nbreak"},
]


def test_invalid_profile_input_is_refused_and_nothing_changes(tenant):
    agent = AgentFactory(tenant=tenant, name="Before", timezone="UTC")
    client = signed_in(tenant, agent)

    for overrides in INVALID_PROFILES:
        response = client.post("/profile/", _form(**overrides))

        assert response.status_code == 400, overrides
        assert b"errorlist" in response.content, overrides
    stored = _user(tenant, agent.pk)
    assert (stored.name, stored.timezone, stored.language) == ("Before", "UTC", "en")


def test_avatar_upload_is_reencoded_and_served_only_by_its_workspace(
    tenant, other_tenant, isolated_media
):
    agent = AgentFactory(tenant=tenant)
    client = signed_in(tenant, agent)

    upload = SimpleUploadedFile("me.png", png((1200, 800)), content_type="image/png")
    response = client.post("/profile/", _form(avatar=upload))

    assert response.status_code == 302
    stored = _user(tenant, agent.pk)
    assert stored.avatar.name.startswith("avatars/") and stored.avatar.name.endswith(".png")
    assert "me.png" not in stored.avatar.name
    url = in_schema(tenant, lambda: User.objects.get(pk=agent.pk).avatar.url)
    assert url.startswith("/media/acme/avatars/")
    assert (isolated_media / "acme" / stored.avatar.name).is_file()

    served = client_for(tenant).get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert max(image.size) == 512
    # The same URL on another workspace's host serves nothing.
    assert client_for(other_tenant).get(url).status_code == 404
    assert signed_in(tenant, agent).get("/").content.count(url.encode()) >= 1


BAD_UPLOADS = [
    ("page.png", b"<html><script>alert(1)</script></html>", "image/png"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
    ("big.png", png() + b"\0" * (2 * 1024 * 1024), "image/png"),
    ("anim.tiff", b"II*\x00" + b"\0" * 64, "image/tiff"),
    ("empty.png", b"", "image/png"),
]


def test_bad_avatar_uploads_are_refused(tenant):
    agent = AgentFactory(tenant=tenant)
    client = signed_in(tenant, agent)

    for name, content, content_type in BAD_UPLOADS:
        response = client.post(
            "/profile/", _form(avatar=SimpleUploadedFile(name, content, content_type=content_type))
        )

        assert response.status_code == 400, name
        assert b"errorlist" in response.content, name
    assert not _user(tenant, agent.pk).avatar


def test_png_with_a_script_appended_is_stored_without_it(tenant):
    agent = AgentFactory(tenant=tenant)
    polyglot = png() + b"<script>alert(1)</script>"

    signed_in(tenant, agent).post(
        "/profile/", _form(avatar=SimpleUploadedFile("x.png", polyglot, "image/png"))
    )

    stored = in_schema(tenant, lambda: User.objects.get(pk=agent.pk).avatar.read())
    assert b"<script>" not in stored


def test_avatar_can_be_removed(tenant):
    agent = AgentFactory(tenant=tenant)
    client = signed_in(tenant, agent)
    client.post("/profile/", _form(avatar=SimpleUploadedFile("a.png", png(), "image/png")))

    client.post("/profile/", _form(avatar_remove="on"))

    assert not _user(tenant, agent.pk).avatar


def test_media_outside_the_picture_folders_is_not_served(tenant):
    client = client_for(tenant)

    for path in (
        "/media/acme/private/secret.txt",
        "/media/acme/avatars/../private/secret.txt",
        "/media/acme/../globex/avatars/x.png",
        "/media/globex/avatars/x.png",
    ):
        assert client.get(path).status_code == 404, path


def test_status_switch_updates_the_agent_and_returns_to_the_page(tenant):
    agent = AgentFactory(tenant=tenant)
    client = signed_in(tenant, agent)

    response = client.post(
        "/profile/status/", {"status": "away"}, HTTP_REFERER="http://acme.localhost/team/"
    )

    assert response.status_code == 302
    assert response["Location"] == "http://acme.localhost/team/"
    assert _user(tenant, agent.pk).status == "away"


def test_status_switch_refuses_unknown_values_and_foreign_redirects(tenant):
    agent = AgentFactory(tenant=tenant)
    client = signed_in(tenant, agent)

    response = client.post(
        "/profile/status/", {"status": "invisible"}, HTTP_REFERER="https://evil.example/"
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _user(tenant, agent.pk).status == "online"
    assert client.get("/profile/status/").status_code == 405


def test_header_menu_offers_the_status_switch(tenant):
    page = signed_in(tenant, owner_of(tenant)).get("/")

    assert b'action="/profile/status/"' in page.content
    for value in (b'value="online"', b'value="away"', b'value="offline"'):
        assert value in page.content


def test_profile_page_renders_with_account_tabs(tenant):
    page = signed_in(tenant, owner_of(tenant)).get("/profile/")

    assert page.status_code == 200
    assert b'class="account-tabs"' in page.content
    assert b'aria-current="page">Profile<' in page.content
    assert b'<option value="Asia/Shanghai"' in page.content
