"""allauth's pages in our layouts, what is switched off, and the home page."""

from __future__ import annotations

import pytest
from django.core import mail

from tenants.agents.models import Invitation, User
from tests.factories import OWNER_PASSWORD, AgentFactory
from tests.tenants.agents.clients import (
    client_for,
    in_schema,
    owner_of,
    sign_in,
    signed_in,
)

pytestmark = pytest.mark.django_db


ENTRANCE_PAGES = [
    "/accounts/login/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
    "/accounts/signup/",
    "/accounts/password/reset/key/1-bad-token/",
]
ACCOUNT_PAGES = [
    ("/accounts/email/", b"Email addresses"),
    ("/accounts/password/change/", b"Password"),
    ("/accounts/2fa/", b"Two-factor authentication"),
]


def test_sign_in_side_pages_use_the_centered_card(tenant):
    for path in ENTRANCE_PAGES:
        page = client_for(tenant).get(path, follow=True)

        assert page.status_code == 200, path
        assert b'class="centered-card auth-card' in page.content, path
        assert b'class="sidebar"' not in page.content, path
        assert b"Acme" in page.content, path


def test_account_pages_render_inside_the_agent_shell(tenant):
    client = signed_in(tenant, owner_of(tenant))

    for path, tab in ACCOUNT_PAGES:
        page = client.get(path)

        assert page.status_code == 200, path
        assert b'class="sidebar"' in page.content, path
        assert b'aria-current="page">' + tab + b"<" in page.content, path


def test_there_is_no_open_signup_in_a_workspace(tenant):
    client = client_for(tenant)

    login = client.get("/accounts/login/")
    page = client.get("/accounts/signup/")
    attempt = client.post(
        "/accounts/signup/", {"email": "walk-in@example.com", "password1": "Walk-in-pass-991"}
    )

    assert b"/accounts/signup/" not in login.content
    assert b"Join by invitation" in page.content
    assert attempt.status_code == 200
    assert not in_schema(tenant, lambda: User.objects.filter(email="walk-in@example.com").exists())


def test_no_social_login_is_offered(tenant):
    page = client_for(tenant).get("/accounts/login/")

    assert b"socialaccount" not in page.content
    assert client_for(tenant).get("/accounts/social/login/cancelled/").status_code == 404


def test_password_change_works_and_notifies_after_commit(
    tenant, django_capture_on_commit_callbacks
):
    agent = AgentFactory(tenant=tenant, email="changer@acme.example")
    client = signed_in(tenant, agent)
    new = "changed-pass-Axolotl-31"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/password/change/",
            {"oldpassword": "agent-pass-Wombat-42", "password1": new, "password2": new},
        )

    assert response.status_code == 302
    assert in_schema(tenant, lambda: User.objects.get(pk=agent.pk).check_password(new))
    (notice,) = mail.outbox
    assert notice.to == ["changer@acme.example"]
    assert notice.subject.startswith("[Acme] ")
    assert client.get("/").status_code == 200  # still signed in after the change


def test_wrong_current_password_changes_nothing(tenant):
    agent = AgentFactory(tenant=tenant)
    client = signed_in(tenant, agent)

    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": "nope", "password1": "x-Quite-long-91", "password2": "x-Quite-long-91"},
    )

    assert response.status_code == 200
    assert b"errorlist" in response.content or b"alert-danger" in response.content
    assert in_schema(
        tenant, lambda: User.objects.get(pk=agent.pk).check_password("agent-pass-Wombat-42")
    )


def test_home_shows_the_workspace_summary_to_an_admin(tenant):
    AgentFactory(tenant=tenant)
    AgentFactory(tenant=tenant, is_active=False)
    client = signed_in(tenant, owner_of(tenant))
    client.post("/team/invite/", {"email": "soon@example.com", "role": "agent"})

    page = client.get("/").content.decode()

    assert "Welcome, Olivia" in page
    assert 'stat-value">2<' in page  # two active members
    assert "1 deactivated" in page
    assert 'stat-value">1<' in page  # one pending invitation
    assert "Workspace settings" in page
    assert in_schema(tenant, lambda: Invitation.objects.count()) == 1


def test_home_invites_a_lone_owner_to_bring_the_team(tenant):
    page = signed_in(tenant, owner_of(tenant)).get("/").content.decode()

    assert "Invite your team" in page
    assert "isn't verified" in page or "isn&#x27;t verified" in page


def test_home_for_an_agent_has_no_admin_links(tenant):
    agent = AgentFactory(tenant=tenant)

    page = signed_in(tenant, agent).get("/").content.decode()

    assert "Workspace settings" not in page
    assert "Invite a teammate" not in page
    assert "Your team" in page
    assert "verified" not in page  # agents joined with a verified address


def test_signed_in_owner_reaches_home_after_login(tenant):
    client = client_for(tenant)

    response = sign_in(client, "owner@acme.example", OWNER_PASSWORD)

    assert response["Location"] == "/"
    assert b"Welcome, Olivia" in client.get("/").content


def test_sign_in_never_redirects_to_another_host(tenant):
    for target in ("https://evil.example/", "//evil.example/", "http://globex.localhost/"):
        response = client_for(tenant).post(
            "/accounts/login/",
            {"login": "owner@acme.example", "password": OWNER_PASSWORD, "next": target},
        )

        assert response.status_code == 302, target
        assert response["Location"] == "/", target
