"""GET and PATCH /api/v1/me/: the signed-in agent, by token or by session, in its own workspace."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from tenants.agents.models import User
from tests.factories import AgentFactory, host_of
from tests.helpdesk.api.helpers import assert_error, bearer, owner_of, session_login, token_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/"


def _patch(client, tenant, data, **extra):
    return client.patch(
        URL, json.dumps(data), content_type="application/json", HTTP_HOST=host_of(tenant), **extra
    )


def _reload(tenant, user) -> User:
    with tenant_context(tenant):
        return User.objects.get(pk=user.pk)


def test_me_with_a_token(client, tenant):
    owner = owner_of(tenant)
    token = token_for(tenant, owner)

    response = client.get(URL, HTTP_HOST=host_of(tenant), **bearer(token))

    assert response.status_code == 200
    assert response.json() == {
        "id": owner.pk,
        "email": owner.email,
        "name": "Olivia Owner",
        "role": "owner",
        "status": owner.status,
        "language": "en",
        "timezone": "UTC",
        "avatar_url": None,
        "is_active": True,
    }


def test_me_accepts_the_token_keyword_too(client, tenant):
    owner = owner_of(tenant)
    token = token_for(tenant, owner)

    response = client.get(URL, HTTP_HOST=host_of(tenant), HTTP_AUTHORIZATION=f"Token {token}")

    assert response.json()["id"] == owner.pk


def test_me_with_a_session(client, tenant):
    agent = AgentFactory(tenant=tenant, name="Alex Agent")
    session_login(client, tenant, agent)

    response = client.get(URL, HTTP_HOST=host_of(tenant))

    assert response.status_code == 200
    assert response.json()["email"] == agent.email
    assert response.json()["role"] == "agent"


def test_me_without_credentials_is_401_with_a_bearer_challenge(client, tenant):
    response = client.get(URL, HTTP_HOST=host_of(tenant))

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer hd_nope", "Token hd_abcdefgh_" + "x" * 43, "Bearer \u00e9"],
)
def test_bad_authorization_headers_are_401(client, tenant, header):
    response = client.get(URL, HTTP_HOST=host_of(tenant), HTTP_AUTHORIZATION=header)

    assert_error(response, 401)


def test_a_bad_token_does_not_fall_back_to_the_session(client, tenant):
    session_login(client, tenant, owner_of(tenant))

    response = client.get(URL, HTTP_HOST=host_of(tenant), **bearer("hd_abcdefgh_" + "x" * 43))

    assert_error(response, 401, "invalid_token")


def test_a_token_of_workspace_a_is_refused_on_workspace_b(client, tenant, other_tenant):
    token = token_for(tenant, owner_of(tenant))

    response = client.get(URL, HTTP_HOST=host_of(other_tenant), **bearer(token))

    assert_error(response, 401, "invalid_token")


def test_a_session_of_workspace_a_is_not_signed_in_on_workspace_b(client, tenant, other_tenant):
    session_login(client, tenant, owner_of(tenant))
    assert client.get(URL, HTTP_HOST=host_of(tenant)).status_code == 200

    response = client.get(URL, HTTP_HOST=host_of(other_tenant))

    assert_error(response, 401, "not_authenticated")


def test_a_deactivated_agents_token_is_refused(client, tenant):
    agent = AgentFactory(tenant=tenant)
    token = token_for(tenant, agent)
    with tenant_context(tenant):
        User.objects.filter(pk=agent.pk).update(is_active=False)

    response = client.get(URL, HTTP_HOST=host_of(tenant), **bearer(token))

    assert_error(response, 401, "invalid_token")


def test_patch_changes_the_agents_own_profile(client, tenant):
    agent = AgentFactory(tenant=tenant)
    token = token_for(tenant, agent)

    response = _patch(
        client,
        tenant,
        {"name": "  Alex   Doe ", "language": "de", "timezone": "Europe/Berlin", "status": "away"},
        **bearer(token),
    )

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Alex Doe"
    stored = _reload(tenant, agent)
    assert (stored.name, stored.language, stored.timezone, stored.status) == (
        "Alex Doe",
        "de",
        "Europe/Berlin",
        "away",
    )


def test_patch_with_only_some_fields_leaves_the_others(client, tenant):
    agent = AgentFactory(tenant=tenant, name="Alex Agent")
    token = token_for(tenant, agent)

    response = _patch(client, tenant, {"status": "online"}, **bearer(token))

    assert response.status_code == 200
    stored = _reload(tenant, agent)
    assert (stored.name, stored.status, stored.timezone) == ("Alex Agent", "online", "UTC")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "' OR 1=1 --"}, "timezone"),
        ({"language": "xx"}, "language"),
        ({"status": "busy"}, "status"),
        ({"status": {"$regex": ".*"}}, "status"),
        ({"name": ""}, "name"),
        ({"name": "Eve\r\nBcc: x@evil.example"}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": ["a", "b"]}, "name"),
        ({"role": "owner"}, "role"),
        ({"email": "boss@evil.example"}, "email"),
        ({"is_active": False}, "is_active"),
        ({"name": "Fine", "schema_name": "public"}, "schema_name"),
    ],
)
def test_patch_refuses_bad_values_and_changes_nothing(client, tenant, data, field):
    agent = AgentFactory(tenant=tenant, name="Alex Agent")
    token = token_for(tenant, agent)
    before = _reload(tenant, agent)

    response = _patch(client, tenant, data, **bearer(token))

    error = assert_error(response, 400, "invalid")
    assert field in error["details"]
    assert error["details"][field][0]["message"]
    after = _reload(tenant, agent)
    for name in ("name", "email", "role", "language", "timezone", "status", "is_active"):
        assert getattr(after, name) == getattr(before, name)


def test_patch_with_malformed_json_is_a_parse_error(client, tenant):
    token = token_for(tenant, owner_of(tenant))

    response = client.patch(
        URL, "{nope", content_type="application/json", HTTP_HOST=host_of(tenant), **bearer(token)
    )

    assert_error(response, 400, "parse_error")


def test_patch_with_a_form_body_is_415(client, tenant):
    token = token_for(tenant, owner_of(tenant))

    response = client.patch(
        URL,
        "name=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_HOST=host_of(tenant),
        **bearer(token),
    )

    assert_error(response, 415, "unsupported_media_type")


def test_session_patch_needs_the_csrf_token(tenant):
    from django.test import Client

    agent = AgentFactory(tenant=tenant, name="Alex Agent")
    client = Client(enforce_csrf_checks=True)
    session_login(client, tenant, agent)

    response = _patch(client, tenant, {"name": "Changed"})

    assert_error(response, 403, "permission_denied")
    assert _reload(tenant, agent).name == "Alex Agent"


def test_delete_on_me_is_405(client, tenant):
    token = token_for(tenant, owner_of(tenant))

    response = client.delete(URL, HTTP_HOST=host_of(tenant), **bearer(token))

    assert_error(response, 405, "method_not_allowed")
    assert _reload(tenant, owner_of(tenant)).is_active
