"""The foundation issue's "done when", as a new user does it, in real Chromium.

A merchant signs up on the public site, lands on their workspace's login, signs in, invites an
agent; the agent opens the emailed link in a second browser profile, joins, signs out and signs
in again. Mail goes through the real SMTP backend to a local SMTP server.
"""

import re

import pytest
from django_tenants.utils import schema_exists, tenant_context

from tenants.agents.models import User
from tenants.models import Tenant
from tests.browser.conftest import live_url

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

OWNER_EMAIL = "mei@acme-outdoor.example"
OWNER_PASSWORD = "Quokka-tent-2026"
AGENT_EMAIL = "luis@acme-outdoor.example"
AGENT_PASSWORD = "Wombat-lantern-2026"


def _sign_in(page, email, password):
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_signup_invite_accept_and_agent_login(
    live_server, new_page, smtp_sink, drop_workspaces_made_in_browser
):
    # A merchant signs up on the public site.
    owner = new_page()
    owner.goto(live_url(live_server, "localhost", "/signup/"))
    owner.get_by_label("Company name").fill("Acme")
    owner.get_by_label("Workspace address").fill("acme")
    owner.get_by_label("Your name").fill("Mei Chen")
    owner.get_by_label("Work email").fill(OWNER_EMAIL)
    owner.get_by_label("Password").fill(OWNER_PASSWORD)
    owner.get_by_role("button", name=re.compile("Create", re.I)).click()

    # ... and lands on the workspace's own host, at its login.
    owner.wait_for_url(re.compile(r"^http://acme\.localhost:\d+/accounts/login/"))
    assert schema_exists("acme")
    tenant = Tenant.objects.get(slug="acme")
    assert tenant.name == "Acme"

    _sign_in(owner, OWNER_EMAIL, OWNER_PASSWORD)
    owner.wait_for_url(re.compile(r"^http://acme\.localhost:\d+/$"))
    assert owner.get_by_role("link", name="Team", exact=True).is_visible()
    assert owner.get_by_role("link", name="Settings", exact=True).is_visible()

    # The owner invites an agent from the team page.
    owner.get_by_role("link", name="Team", exact=True).click()
    owner.get_by_label("Email address").fill(AGENT_EMAIL)
    owner.get_by_role("button", name="Send invitation").click()
    owner.get_by_text(AGENT_EMAIL).first.wait_for()

    invitation = next(m for m in smtp_sink.to(AGENT_EMAIL))
    link = next(u for u in smtp_sink.links(invitation) if "/invite/" in u)
    assert link.startswith("http://acme.localhost:")

    # The agent opens the link in another browser profile (no shared cookies) and joins.
    agent = new_page()
    agent.goto(link)
    agent.get_by_label("Your name").fill("Luis Ortega")
    agent.get_by_label("Password", exact=True).fill(AGENT_PASSWORD)
    agent.get_by_label("Password (again)").fill(AGENT_PASSWORD)
    agent.get_by_role("button", name=re.compile("Join", re.I)).click()
    agent.wait_for_url(re.compile(r"^http://acme\.localhost:\d+/$"))
    assert "Luis Ortega" in agent.locator("header").inner_text()

    with tenant_context(tenant):
        joined = User.objects.get(email=AGENT_EMAIL)
        assert joined.role == User.Role.AGENT
        assert joined.is_active

    # Signed out and back in with the password they chose.
    agent.get_by_role("button", name=re.compile("Luis Ortega")).click()
    agent.get_by_role("menuitem", name="Sign out").click()
    agent.wait_for_url(re.compile(r"/accounts/login/"))
    _sign_in(agent, AGENT_EMAIL, AGENT_PASSWORD)
    agent.wait_for_url(re.compile(r"^http://acme\.localhost:\d+/$"))

    # An agent sees no workspace settings, and the invitation link is spent.
    assert agent.get_by_role("link", name="Settings", exact=True).count() == 0
    spent = new_page()
    spent.goto(link)
    assert spent.get_by_role("button", name=re.compile("Join", re.I)).count() == 0
