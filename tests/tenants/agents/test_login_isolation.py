"""Signing in is per workspace: accounts, sessions and rate limits never cross schemas."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from tests.factories import AGENT_PASSWORD, OWNER_PASSWORD, AgentFactory, host_of
from tests.tenants.agents.clients import client_for, in_schema, sign_in

pytestmark = pytest.mark.django_db

SHARED_EMAIL = "sam@shared.example"
WRONG_CREDENTIALS = "The email address and/or password you specified are not correct."


@pytest.fixture
def twin_workspaces(make_tenant):
    """Two workspaces whose owners registered with the same email and the same password."""
    a = make_tenant(slug="acme", company_name="Acme", owner_email=SHARED_EMAIL, owner_name="Sam A")
    b = make_tenant(
        slug="globex", company_name="Globex", owner_email=SHARED_EMAIL, owner_name="Sam B"
    )
    return a, b


def test_same_credentials_sign_in_to_the_host_workspace_only(twin_workspaces):
    a, b = twin_workspaces
    client = client_for(a)

    response = sign_in(client, SHARED_EMAIL, OWNER_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert b"Acme" in home.content and b"Globex" not in home.content
    # The same browser on B's host is a stranger there.
    on_b = client.get("/", HTTP_HOST=host_of(b))
    assert on_b.status_code == 302
    assert on_b["Location"].startswith("/accounts/login/")
    assert in_schema(a, lambda: Session.objects.count()) == 1
    assert in_schema(b, lambda: Session.objects.count()) == 0


def test_each_workspace_signs_in_its_own_account(twin_workspaces):
    a, b = twin_workspaces
    client_a, client_b = client_for(a), client_for(b)

    sign_in(client_a, SHARED_EMAIL)
    sign_in(client_b, SHARED_EMAIL)

    assert b"Sam A" in client_a.get("/").content
    assert b"Sam B" in client_b.get("/").content


def test_session_cookie_from_a_replayed_on_b_is_not_authenticated(twin_workspaces):
    a, b = twin_workspaces
    client_a = client_for(a)
    sign_in(client_a, SHARED_EMAIL)
    stolen = client_a.cookies["sessionid"].value

    replay = Client(HTTP_HOST=host_of(b))
    replay.cookies["sessionid"] = stolen
    for path in ("/", "/team/", "/profile/", "/accounts/email/", "/settings/"):
        response = replay.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"/accounts/login/?next={path}"
        assert b"Globex" not in response.content

    assert in_schema(b, lambda: Session.objects.filter(session_key=stolen).exists()) is False
    # The session still works where it was issued.
    assert client_a.get("/team/").status_code == 200


def test_credentials_of_a_do_not_sign_in_on_b(tenant, other_tenant):
    agent = AgentFactory(tenant=tenant, email="only-in-acme@example.com")
    client = client_for(other_tenant)

    response = sign_in(client, agent.email, AGENT_PASSWORD)

    assert response.status_code == 200
    assert WRONG_CREDENTIALS in response.content.decode()
    assert client.get("/").status_code == 302
    assert in_schema(other_tenant, lambda: Session.objects.count()) == 0


def test_wrong_password_shows_allauths_error_and_no_session(tenant):
    client = client_for(tenant)

    response = sign_in(client, "owner@acme.example", "not-the-password")

    assert response.status_code == 200
    assert WRONG_CREDENTIALS in response.content.decode()
    assert in_schema(tenant, lambda: Session.objects.count()) == 0


def test_failed_logins_are_rate_limited_per_workspace(twin_workspaces):
    a, b = twin_workspaces
    client = client_for(a)
    for _ in range(5):
        sign_in(client, SHARED_EMAIL, "wrong-password-123")

    blocked = sign_in(client, SHARED_EMAIL, OWNER_PASSWORD)

    assert blocked.status_code in (200, 429)
    assert "Too many failed login attempts" in blocked.content.decode()
    assert client.get("/").status_code == 302
    # B's counter is its own: the same address signs in there at once.
    allowed = sign_in(client_for(b), SHARED_EMAIL, OWNER_PASSWORD)
    assert allowed.status_code == 302


def test_sign_out_ends_the_session(tenant):
    client = client_for(tenant)
    sign_in(client, "owner@acme.example")

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302
    assert in_schema(tenant, lambda: Session.objects.count()) == 0
