"""Which host serves what: the public site, workspaces, unknown and suspended hosts."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from tenants.agents.models import User
from tenants.services.operator import tenant_suspend
from tests.factories import host_of

pytestmark = pytest.mark.django_db


def test_public_home_explains_the_product_and_links_to_signup(client):
    response = client.get("/", HTTP_HOST="localhost")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Create your workspace" in body
    assert 'href="/signup/"' in body
    for topic in ("Live chat", "Translation", "Routing", "Response targets", "Host it yourself"):
        assert topic in body


def test_unknown_host_gets_a_friendly_404_with_links_on_the_same_port(client):
    response = client.get("/", HTTP_HOST="nope.localhost:8000")

    assert response.status_code == 404
    body = response.content.decode()
    assert "There&#x27;s no workspace here" in body or "There's no workspace here" in body
    assert "nope.localhost" in body
    assert 'href="http://localhost:8000/signup/"' in body
    assert 'href="http://localhost:8000/"' in body


def test_unregistered_custom_domain_gets_the_same_404_on_any_path(client):
    response = client.get("/accounts/login/", HTTP_HOST="support.unknown-shop.example")

    assert response.status_code == 404
    assert b"support.unknown-shop.example" in response.content
    assert b"Find your workspace" in response.content


def test_workspace_host_is_served_by_its_workspace(client, tenant):
    response = client.get("/accounts/login/", HTTP_HOST=host_of(tenant))

    assert response.status_code == 200
    assert b"Acme" in response.content


def test_suspended_workspace_shows_unavailable_page_on_every_path(client, tenant):
    tenant_suspend(tenant=tenant)

    for path in ("/", "/accounts/login/", "/accounts/password/reset/"):
        response = client.get(path, HTTP_HOST=host_of(tenant))
        assert response.status_code == 503, path
        assert b"This workspace is unavailable" in response.content
        assert b"kept" in response.content
    api = client.get("/api/v1/me/", HTTP_HOST=host_of(tenant))
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "workspace_suspended"


def test_suspended_workspace_refuses_sign_in_and_keeps_data(client, tenant):
    tenant_suspend(tenant=tenant)

    response = client.post(
        "/accounts/login/",
        {"login": "owner@acme.example", "password": "owner-pass-Quokka-42"},
        HTTP_HOST=host_of(tenant),
    )

    assert response.status_code == 503
    assert "_auth_user_id" not in client.session
    with tenant_context(tenant):
        assert User.objects.filter(email="owner@acme.example").exists()


def test_suspending_one_workspace_leaves_another_untouched(client, tenant, other_tenant):
    tenant_suspend(tenant=tenant)

    response = client.get("/accounts/login/", HTTP_HOST=host_of(other_tenant))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/operator/", "/operator/login/", "/operator/tenants/tenant/", "/signup/", "/find-workspace/"],
)
def test_public_site_pages_do_not_exist_on_workspace_hosts(client, tenant, path):
    response = client.get(path, HTTP_HOST=host_of(tenant))

    assert response.status_code == 404


def test_operator_admin_is_not_served_on_a_workspace_host_even_to_staff(admin_client, tenant):
    response = admin_client.get("/operator/tenants/tenant/", HTTP_HOST=host_of(tenant))

    assert response.status_code == 404
    assert b"Helpdesk operator" not in response.content


# Find your workspace


@pytest.mark.parametrize(
    "address",
    ["acme", " Acme ", "acme.localhost", "http://acme.localhost:8000/inbox", "ACME.LOCALHOST."],
)
def test_find_workspace_redirects_to_its_sign_in_page(client, tenant, address):
    response = client.get("/find-workspace/", {"address": address}, HTTP_HOST="localhost:8000")

    assert response.status_code == 302
    assert response["Location"] == "http://acme.localhost:8000/accounts/login/"


@pytest.mark.parametrize("address", ["nope", "public", "localhost", "127.0.0.1", "' OR 1=1 --"])
def test_find_workspace_unknown_address_is_a_form_error(client, tenant, address):
    response = client.get("/find-workspace/", {"address": address}, HTTP_HOST="localhost")

    assert response.status_code == 200
    assert b"find a workspace at that address" in response.content
    assert b"Create one" in response.content


def test_find_workspace_empty_address_asks_for_one(client):
    response = client.get("/find-workspace/", {"address": ""}, HTTP_HOST="localhost")

    assert response.status_code == 200
    assert b"This field is required" in response.content


def test_find_workspace_finds_a_custom_domain(client, tenant):
    from tenants.models import Domain

    Domain.objects.create(domain="support.acme-shop.example", tenant=tenant, is_primary=False)

    response = client.get(
        "/find-workspace/", {"address": "support.acme-shop.example"}, HTTP_HOST="localhost"
    )

    assert response.status_code == 302
    assert response["Location"] == "http://acme.localhost/accounts/login/"
