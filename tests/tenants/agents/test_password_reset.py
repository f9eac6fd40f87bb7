"""Password reset by email, end to end through a real SMTP server."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core import mail

from tenants.agents.models import User
from tests.factories import AGENT_PASSWORD, OWNER_PASSWORD, AgentFactory
from tests.tenants.agents.clients import client_for, in_schema, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "brand-new-Pangolin-77"


def _request_reset(client, email, capture):
    with capture(execute=True):
        return client.post("/accounts/password/reset/", {"email": email})


def _reset_link(sink, email):
    (message,) = sink.to(email)
    (link,) = [u for u in sink.links(message) if "/accounts/password/reset/key/" in u]
    return message, link


def test_reset_link_arrives_by_smtp_and_sets_a_new_password(
    tenant, smtp_sink, django_capture_on_commit_callbacks
):
    agent = AgentFactory(tenant=tenant, email="reset-me@acme.example")
    client = client_for(tenant, port=8123)

    response = _request_reset(client, agent.email, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    message, link = _reset_link(smtp_sink, agent.email)
    assert link.startswith("http://acme.localhost:8123/accounts/password/reset/key/")
    assert message["Subject"].startswith("[Acme] ")
    assert "Acme via Helpdesk" in message["From"]

    # Follow the link as a browser would: allauth moves the key into the session first.
    step = client.get(urlsplit(link).path)
    assert step.status_code == 302
    form_url = step["Location"]
    assert client.get(form_url).status_code == 200
    done = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302

    assert sign_in(client_for(tenant), agent.email, AGENT_PASSWORD).status_code == 200
    assert sign_in(client_for(tenant), agent.email, NEW_PASSWORD).status_code == 302
    # The link was single-use: the password it was made for no longer exists.
    again = client_for(tenant).get(urlsplit(link).path, follow=True)
    assert b"This reset link doesn't work" in again.content


def test_reset_link_of_one_workspace_is_refused_on_another(
    tenant, other_tenant, smtp_sink, django_capture_on_commit_callbacks
):
    # Both owners have id 1 in their own schema; the link names that id.
    _request_reset(client_for(tenant), "owner@acme.example", django_capture_on_commit_callbacks)
    _, link = _reset_link(smtp_sink, "owner@acme.example")
    stranger = client_for(other_tenant)

    response = stranger.get(urlsplit(link).path, follow=True)

    assert b"This reset link doesn't work" in response.content
    b_owner = in_schema(other_tenant, lambda: User.objects.get(role="owner"))
    assert b_owner.check_password(OWNER_PASSWORD)


def test_reset_for_unknown_address_answers_like_a_known_one(
    tenant, django_capture_on_commit_callbacks
):
    AgentFactory(tenant=tenant, email="known@acme.example")

    known = _request_reset(
        client_for(tenant), "known@acme.example", django_capture_on_commit_callbacks
    )
    unknown = _request_reset(
        client_for(tenant), "nobody@acme.example", django_capture_on_commit_callbacks
    )

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    # The known address gets a link; the unknown one only a notice that no account exists.
    by_recipient = {m.to[0]: m.body for m in mail.outbox}
    assert "/accounts/password/reset/key/" in by_recipient["known@acme.example"]
    assert "/accounts/password/reset/key/" not in by_recipient["nobody@acme.example"]


def test_reset_mail_is_only_queued_once_the_request_commits(
    tenant, django_capture_on_commit_callbacks
):
    AgentFactory(tenant=tenant, email="later@acme.example")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_for(tenant).post("/accounts/password/reset/", {"email": "later@acme.example"})

    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert [m.to for m in mail.outbox] == [["later@acme.example"]]
