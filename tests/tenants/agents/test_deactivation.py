"""Deactivating an agent signs them out at once; reactivating lets them back in."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session

from tenants.agents.models import User
from tests.factories import AGENT_PASSWORD, AgentFactory
from tests.tenants.agents.clients import (
    client_for,
    in_schema,
    owner_of,
    sign_in,
    signed_in,
)

pytestmark = pytest.mark.django_db


def _sessions_of(tenant, user):
    def count():
        return sum(
            1 for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)
        )

    return in_schema(tenant, count)


def test_deactivated_agent_is_signed_out_on_the_next_request_and_cannot_sign_in(tenant):
    agent = AgentFactory(tenant=tenant, email="leaver@acme.example")
    laptop = client_for(tenant)
    phone = client_for(tenant)
    sign_in(laptop, agent.email, AGENT_PASSWORD)
    sign_in(phone, agent.email, AGENT_PASSWORD)
    owner = signed_in(tenant, owner_of(tenant))
    assert laptop.get("/").status_code == 200
    assert _sessions_of(tenant, agent) == 2

    response = owner.post(f"/team/members/{agent.pk}/deactivate/")

    assert response.status_code == 302
    assert _sessions_of(tenant, agent) == 0
    for device in (laptop, phone):
        after = device.get("/team/")
        assert after.status_code == 302
        assert after["Location"].startswith("/accounts/login/")
    again = sign_in(client_for(tenant), agent.email, AGENT_PASSWORD)
    assert again.status_code == 302
    assert again["Location"] == "/accounts/inactive/"
    assert _sessions_of(tenant, agent) == 0
    # The owner who did it is still signed in.
    assert owner.get("/team/").status_code == 200


def test_inactive_page_says_what_happened(tenant):
    agent = AgentFactory(tenant=tenant, is_active=False)

    page = sign_in(client_for(tenant), agent.email, AGENT_PASSWORD)

    followed = client_for(tenant).get(page["Location"])
    assert b"deactivated" in followed.content


def test_reactivated_agent_can_sign_in_again(tenant):
    agent = AgentFactory(tenant=tenant)
    owner = signed_in(tenant, owner_of(tenant))
    owner.post(f"/team/members/{agent.pk}/deactivate/")

    response = owner.post(f"/team/members/{agent.pk}/reactivate/")

    assert response.status_code == 302
    stored = in_schema(tenant, lambda: User.objects.get(pk=agent.pk))
    assert stored.is_active and stored.deactivated_at is None
    client = client_for(tenant)
    assert sign_in(client, agent.email, AGENT_PASSWORD)["Location"] == "/"
    assert client.get("/").status_code == 200


def test_deactivating_one_agent_leaves_other_sessions_alone(tenant):
    leaver = AgentFactory(tenant=tenant)
    stayer = AgentFactory(tenant=tenant)
    stayer_client = client_for(tenant)
    sign_in(stayer_client, stayer.email, AGENT_PASSWORD)
    sign_in(client_for(tenant), leaver.email, AGENT_PASSWORD)

    signed_in(tenant, owner_of(tenant)).post(f"/team/members/{leaver.pk}/deactivate/")

    assert _sessions_of(tenant, stayer) == 1
    assert stayer_client.get("/").status_code == 200


def test_deactivation_in_one_workspace_leaves_the_same_id_in_another_signed_in(
    tenant, other_tenant
):
    here = AgentFactory(tenant=tenant)
    there = AgentFactory(tenant=other_tenant)
    assert here.pk == there.pk
    their_client = client_for(other_tenant)
    sign_in(their_client, there.email, AGENT_PASSWORD)

    signed_in(tenant, owner_of(tenant)).post(f"/team/members/{here.pk}/deactivate/")

    assert their_client.get("/").status_code == 200
    assert _sessions_of(other_tenant, there) == 1
