"""Every failure under /api/ answers with {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from tenants.agents.models import User
from tenants.models import Tenant
from tests.factories import AgentFactory, host_of
from tests.helpdesk.api.helpers import assert_error, bearer, owner_of, token_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_unknown_api_urls_are_json_404s_not_the_html_page(client, tenant, method):
    response = getattr(client, method)("/api/v1/nothing-here/", HTTP_HOST=host_of(tenant))

    error = assert_error(response, 404, "not_found")
    assert error["details"]["path"] == "/api/v1/nothing-here/"


def test_a_missing_trailing_slash_gets_a_hint(client, tenant):
    response = client.get("/api/v1/me", HTTP_HOST=host_of(tenant))

    error = assert_error(response, 404, "not_found")
    assert "/api/v1/me/" in error["details"]["hint"]


def test_api_on_the_public_site_is_a_json_404(client):
    response = client.get("/api/v1/me/", HTTP_HOST="localhost")

    error = assert_error(response, 404, "not_found")
    assert "workspace" in error["details"]["hint"]


def test_unknown_host_api_is_not_served(client):
    response = client.get("/api/v1/me/", HTTP_HOST="nobody.localhost")

    assert response.status_code == 404


def test_validation_errors_list_problems_per_field(client, tenant):
    token = token_for(tenant, owner_of(tenant))

    response = client.patch(
        "/api/v1/me/",
        {"timezone": "Nowhere/Land", "language": "klingon"},
        content_type="application/json",
        HTTP_HOST=host_of(tenant),
        **bearer(token),
    )

    error = assert_error(response, 400, "invalid")
    assert set(error["details"]) == {"timezone", "language"}
    assert error["details"]["language"][0]["code"] == "invalid_choice"


def test_throttled_requests_are_429_with_retry_after(client, tenant, settings):
    from django.core.cache import cache

    owner = owner_of(tenant)
    token = token_for(tenant, owner)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"agent": "2/minute"},
    }
    with tenant_context(tenant):
        cache.delete(f"throttle_agent_{owner.pk}")

    statuses = [
        client.get("/api/v1/me/", HTTP_HOST=host_of(tenant), **bearer(token)).status_code
        for _ in range(2)
    ]
    response = client.get("/api/v1/me/", HTTP_HOST=host_of(tenant), **bearer(token))

    assert statuses == [200, 200]
    error = assert_error(response, 429, "throttled")
    assert error["details"]["retry_after"] >= 1
    assert int(response["Retry-After"]) == error["details"]["retry_after"]


def test_the_throttle_budget_is_per_workspace(client, tenant, other_tenant, settings):
    """Owners of both workspaces have the same id; one's budget must not spend the other's."""
    from django.core.cache import cache

    owner_a, owner_b = owner_of(tenant), owner_of(other_tenant)
    assert owner_a.pk == owner_b.pk
    token_a, token_b = token_for(tenant, owner_a), token_for(other_tenant, owner_b)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"agent": "1/minute"},
    }
    for t in (tenant, other_tenant):
        with tenant_context(t):
            cache.delete(f"throttle_agent_{owner_a.pk}")

    first_a = client.get("/api/v1/me/", HTTP_HOST=host_of(tenant), **bearer(token_a))
    first_b = client.get("/api/v1/me/", HTTP_HOST=host_of(other_tenant), **bearer(token_b))

    assert (first_a.status_code, first_b.status_code) == (200, 200)


@pytest.mark.urls("tests.helpdesk.api.urls_boom")
def test_an_unexpected_error_is_a_json_500_that_reveals_nothing(client, tenant, caplog):
    token = token_for(tenant, owner_of(tenant))

    response = client.get("/api/v1/boom/", HTTP_HOST=host_of(tenant), **bearer(token))

    assert_error(response, 500, "server_error")
    assert b"hunter2" not in response.content
    assert "Traceback" not in response.content.decode()
    assert any("hunter2" in str(r.exc_info) for r in caplog.records if r.exc_info)


def test_a_suspended_workspace_answers_503_json(client, tenant):
    token = token_for(tenant, owner_of(tenant))
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.SUSPENDED)

    response = client.get("/api/v1/me/", HTTP_HOST=host_of(tenant), **bearer(token))

    assert_error(response, 503, "workspace_suspended")


def test_a_token_for_a_user_who_is_not_active_is_401(client, tenant):
    agent = AgentFactory(tenant=tenant)
    token = token_for(tenant, agent)
    with tenant_context(tenant):
        User.objects.filter(pk=agent.pk).update(is_active=False)

    assert_error(
        client.get("/api/v1/agents/", HTTP_HOST=host_of(tenant), **bearer(token)),
        401,
        "invalid_token",
    )
