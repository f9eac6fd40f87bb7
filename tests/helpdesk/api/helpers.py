"""Small helpers for API tests: credentials made through the real services."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import tenant_context

from tenants.agents.models import User
from tenants.agents.tokens import api_token_create
from tests.factories import host_of


def owner_of(tenant) -> User:
    with tenant_context(tenant):
        owner = User.objects.get(role=User.Role.OWNER)
    connection.set_schema_to_public()
    return owner


def token_for(tenant, user, name: str = "Test") -> str:
    with tenant_context(tenant):
        secret = api_token_create(user=user, name=name).secret
    connection.set_schema_to_public()
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def session_login(client, tenant, user) -> None:
    """Sign `user` in on `client` with a session stored in `tenant`'s schema."""
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_schema_to_public()


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The API's one error shape; returns the inner error object."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    if code is not None:
        assert error["code"] == code, error
    return error


class OwnerApi:
    """JSON calls to the workspace's API as its owner, with an API token."""

    def __init__(self, client, tenant):
        self.client = client
        self.headers = {"HTTP_HOST": host_of(tenant), **bearer(token_for(tenant, owner_of(tenant)))}

    def get(self, url, **params):
        return self.client.get(url, params, **self.headers)

    def patch(self, url, body):
        return self.client.patch(url, body, content_type="application/json", **self.headers)

    def post(self, url, body):
        return self.client.post(url, body, content_type="application/json", **self.headers)
