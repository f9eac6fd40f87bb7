"""/api/v1/agents/: listing and reading the team, and the admin-only deactivation."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from tenants.agents.models import User
from tests.factories import AgentFactory, host_of
from tests.helpdesk.api.helpers import assert_error, bearer, owner_of, session_login, token_for

pytestmark = pytest.mark.django_db

LIST = "/api/v1/agents/"
PUBLIC_FIELDS = {
    "id",
    "email",
    "name",
    "role",
    "status",
    "language",
    "timezone",
    "avatar_url",
    "is_active",
}


def detail(agent_id) -> str:
    return f"/api/v1/agents/{agent_id}/"


def deactivate(agent_id) -> str:
    return f"/api/v1/agents/{agent_id}/deactivate/"


def _active(tenant, agent_id) -> bool:
    with tenant_context(tenant):
        return User.objects.get(pk=agent_id).is_active


def test_any_agent_lists_the_team_without_secrets(client, tenant):
    agent = AgentFactory(tenant=tenant, name="Alex Agent")
    AgentFactory(tenant=tenant, name="Bea Admin", role="admin")

    response = client.get(LIST, HTTP_HOST=host_of(tenant), **bearer(token_for(tenant, agent)))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [a["name"] for a in body["results"]] == ["Olivia Owner", "Bea Admin", "Alex Agent"]
    for row in body["results"]:
        assert set(row) == PUBLIC_FIELDS
    assert "password" not in response.content.decode()


def test_the_list_is_paginated(client, tenant):
    for n in range(4):
        AgentFactory(tenant=tenant, name=f"Agent {n}")
    token = token_for(tenant, owner_of(tenant))

    first = client.get(LIST + "?limit=2", HTTP_HOST=host_of(tenant), **bearer(token)).json()
    second = client.get(first["next"], HTTP_HOST=host_of(tenant), **bearer(token)).json()

    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["next"].startswith(f"http://{host_of(tenant)}/api/v1/agents/")
    assert {a["id"] for a in first["results"]}.isdisjoint(a["id"] for a in second["results"])


@pytest.mark.parametrize(
    "query", ["?limit=abc", "?limit=-5&offset=x", "?limit=100000", "?offset=' OR 1=1"]
)
def test_odd_paging_parameters_fall_back_to_sane_pages(client, tenant, query):
    token = token_for(tenant, owner_of(tenant))

    response = client.get(LIST + query, HTTP_HOST=host_of(tenant), **bearer(token))

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_list_query_count_does_not_grow_with_the_team(
    client, tenant, django_assert_max_num_queries
):
    host = host_of(tenant)
    token = token_for(tenant, owner_of(tenant))
    client.get(LIST, HTTP_HOST=host, **bearer(token))  # marks the token used
    for n in range(12):
        AgentFactory(tenant=tenant, name=f"Agent {n}")

    # Host lookup, token with its agent, count, page; plus django-tenants' SET search_path.
    with django_assert_max_num_queries(8):
        response = client.get(LIST, HTTP_HOST=host, **bearer(token))

    assert len(response.json()["results"]) == 13


def test_list_query_count_with_a_session(client, tenant, django_assert_max_num_queries):
    owner = owner_of(tenant)
    for n in range(12):
        AgentFactory(tenant=tenant, name=f"Agent {n}")
    session_login(client, tenant, owner)
    host = host_of(tenant)

    with django_assert_max_num_queries(10):
        response = client.get(LIST, HTTP_HOST=host)

    assert response.json()["count"] == 13


def test_retrieve_one_agent(client, tenant):
    agent = AgentFactory(tenant=tenant, name="Alex Agent", timezone="Asia/Tokyo")
    token = token_for(tenant, owner_of(tenant))

    response = client.get(detail(agent.pk), HTTP_HOST=host_of(tenant), **bearer(token))

    assert response.status_code == 200
    assert response.json()["timezone"] == "Asia/Tokyo"
    assert set(response.json()) == PUBLIC_FIELDS


def test_unauthenticated_list_is_401(client, tenant):
    assert_error(client.get(LIST, HTTP_HOST=host_of(tenant)), 401, "not_authenticated")


# ---- Cross-tenant ------------------------------------------------------------------------


def test_same_id_in_two_workspaces_reads_only_the_callers_own(client, tenant, other_tenant):
    mine = AgentFactory(tenant=tenant, name="Mine", email="same@example.com")
    theirs = AgentFactory(tenant=other_tenant, name="Theirs", email="same@example.com")
    assert mine.pk == theirs.pk  # schemas are cloned, so ids line up: the case to guard
    token = token_for(tenant, owner_of(tenant))

    one = client.get(detail(mine.pk), HTTP_HOST=host_of(tenant), **bearer(token)).json()
    listed = client.get(LIST, HTTP_HOST=host_of(tenant), **bearer(token)).json()

    assert one["name"] == "Mine"
    assert "Theirs" not in {a["name"] for a in listed["results"]}


def test_another_workspaces_id_is_404_exactly_like_a_missing_one(client, tenant, other_tenant):
    for n in range(3):
        AgentFactory(tenant=other_tenant, name=f"Globex {n}")
    with tenant_context(other_tenant):
        only_in_b = User.objects.order_by("-pk").first().pk
    with tenant_context(tenant):
        assert not User.objects.filter(pk=only_in_b).exists()
    token = token_for(tenant, owner_of(tenant))

    foreign = client.get(detail(only_in_b), HTTP_HOST=host_of(tenant), **bearer(token))
    missing = client.get(detail(987654), HTTP_HOST=host_of(tenant), **bearer(token))

    assert_error(foreign, 404, "not_found")
    assert foreign.content == missing.content


def test_deactivating_another_workspaces_id_is_404_and_changes_nothing(
    client, tenant, other_tenant
):
    victims = [AgentFactory(tenant=other_tenant) for _ in range(3)]
    token = token_for(tenant, owner_of(tenant))

    response = client.post(deactivate(victims[-1].pk), HTTP_HOST=host_of(tenant), **bearer(token))

    assert_error(response, 404, "not_found")
    assert all(_active(other_tenant, v.pk) for v in victims)


@pytest.mark.parametrize("agent_id", ["abc", "1.5", "-1", "99999999999999999999999", "0"])
def test_nonsense_ids_are_json_404s(client, tenant, agent_id):
    token = token_for(tenant, owner_of(tenant))

    response = client.get(detail(agent_id), HTTP_HOST=host_of(tenant), **bearer(token))

    assert_error(response, 404, "not_found")


# ---- Deactivation (admin only) ----------------------------------------------------------


def test_an_agent_cannot_deactivate_anyone(client, tenant):
    agent = AgentFactory(tenant=tenant)
    colleague = AgentFactory(tenant=tenant)
    token = token_for(tenant, agent)

    response = client.post(deactivate(colleague.pk), HTTP_HOST=host_of(tenant), **bearer(token))

    assert_error(response, 403, "admin_role_required")
    assert _active(tenant, colleague.pk)


def test_an_agent_is_refused_before_the_target_is_even_looked_up(client, tenant):
    token = token_for(tenant, AgentFactory(tenant=tenant))

    response = client.post(deactivate(987654), HTTP_HOST=host_of(tenant), **bearer(token))

    assert_error(response, 403, "admin_role_required")


def test_the_owner_deactivates_an_agent_whose_token_then_stops_working(client, tenant):
    agent = AgentFactory(tenant=tenant)
    agent_token = token_for(tenant, agent)
    owner_token = token_for(tenant, owner_of(tenant))

    response = client.post(deactivate(agent.pk), HTTP_HOST=host_of(tenant), **bearer(owner_token))

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    assert not _active(tenant, agent.pk)
    refused = client.get("/api/v1/me/", HTTP_HOST=host_of(tenant), **bearer(agent_token))
    assert_error(refused, 401)


def test_an_admin_cannot_deactivate_the_owner(client, tenant):
    admin = AgentFactory(tenant=tenant, role="admin")
    owner = owner_of(tenant)

    response = client.post(
        deactivate(owner.pk), HTTP_HOST=host_of(tenant), **bearer(token_for(tenant, admin))
    )

    error = assert_error(response, 403, "permission_denied")
    assert "owner" in error["message"].lower()
    assert _active(tenant, owner.pk)


def test_nobody_deactivates_themselves(client, tenant):
    owner = owner_of(tenant)

    response = client.post(
        deactivate(owner.pk), HTTP_HOST=host_of(tenant), **bearer(token_for(tenant, owner))
    )

    assert_error(response, 403)
    assert _active(tenant, owner.pk)


def test_get_on_deactivate_is_405(client, tenant):
    agent = AgentFactory(tenant=tenant)
    token = token_for(tenant, owner_of(tenant))

    response = client.get(deactivate(agent.pk), HTTP_HOST=host_of(tenant), **bearer(token))

    assert_error(response, 405, "method_not_allowed")
    assert _active(tenant, agent.pk)
