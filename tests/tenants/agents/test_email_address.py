"""Verifying and changing the agent's email address (allauth's email page, our layout)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from tenants.agents.models import User
from tests.factories import AgentFactory
from tests.tenants.agents.clients import in_schema, owner_of, signed_in

pytestmark = pytest.mark.django_db


def _confirm_path(body: str) -> str:
    (url,) = [w for w in body.split() if "/accounts/confirm-email/" in w]
    return urlsplit(url).path


def test_owner_is_offered_verification_and_completes_it_by_smtp(
    tenant, smtp_sink, django_capture_on_commit_callbacks
):
    owner = owner_of(tenant)
    client = signed_in(tenant, owner)
    home = client.get("/")
    page = client.get("/accounts/email/")
    assert b"isn&#x27;t verified" in home.content or b"isn't verified" in home.content
    assert b"Not verified" in page.content and b"Send verification email" in page.content
    assert b'class="sidebar"' in page.content  # allauth's page inside the agent shell

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/accounts/email/", {"email": owner.email, "action_send": ""})

    assert sent.status_code == 302
    (message,) = smtp_sink.to(owner.email)
    assert message["Subject"].startswith("[Acme] ")
    path = _confirm_path(smtp_sink.text(message))
    assert "http://acme.localhost" + path in smtp_sink.text(message)
    assert client.get(path).status_code == 200
    client.post(path)
    assert in_schema(tenant, lambda: EmailAddress.objects.get(user_id=owner.pk).verified)
    assert b"Verified" in client.get("/accounts/email/").content


def test_email_change_takes_effect_once_the_new_address_is_verified(
    tenant, django_capture_on_commit_callbacks
):
    agent = AgentFactory(tenant=tenant, email="old@acme.example")
    client = signed_in(tenant, agent)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/email/", {"email": "new@acme.example", "action_add": ""})

    assert in_schema(tenant, lambda: User.objects.get(pk=agent.pk).email) == "old@acme.example"
    (confirmation,) = [m for m in mail.outbox if m.to == ["new@acme.example"]]
    page = client.get("/accounts/email/")
    assert b"Changing to" in page.content and b"new@acme.example" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        client.post(_confirm_path(confirmation.body))

    assert in_schema(tenant, lambda: User.objects.get(pk=agent.pk).email) == "new@acme.example"
    addresses = in_schema(
        tenant, lambda: list(EmailAddress.objects.filter(user_id=agent.pk).values_list("email"))
    )
    assert addresses == [("new@acme.example",)]


@pytest.mark.parametrize("taken", ["colleague@acme.example", "owner@acme.example"])
def test_changing_to_a_colleagues_address_is_refused(
    tenant, taken, django_capture_on_commit_callbacks
):
    # The owner's address is still unverified: a pending claim on it must not even be stored.
    AgentFactory(tenant=tenant, email="colleague@acme.example")
    agent = AgentFactory(tenant=tenant, email="me@acme.example")

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(tenant, agent).post(
            "/accounts/email/", {"email": taken.upper(), "action_add": ""}
        )

    assert b"Another member of this workspace uses this address." in response.content
    assert in_schema(tenant, lambda: User.objects.get(pk=agent.pk).email) == "me@acme.example"
    assert not in_schema(
        tenant, lambda: EmailAddress.objects.filter(user_id=agent.pk, email=taken).exists()
    )
    assert mail.outbox == []


def test_confirmation_link_of_one_workspace_does_not_verify_in_another(
    tenant, other_tenant, django_capture_on_commit_callbacks
):
    # Both owners' addresses are unverified and have the same id in their own schema.
    owner = owner_of(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(tenant, owner).post("/accounts/email/", {"email": owner.email, "action_send": ""})
    path = _confirm_path(mail.outbox[0].body)
    stranger = signed_in(other_tenant, owner_of(other_tenant))

    page = stranger.get(path)
    stranger.post(path)

    assert page.status_code in (200, 404)
    assert b"expired or is invalid" in page.content
    assert not in_schema(other_tenant, lambda: EmailAddress.objects.get(primary=True).verified)
    assert not in_schema(tenant, lambda: EmailAddress.objects.get(primary=True).verified)
