"""Small helpers for driving a workspace over HTTP in tests."""

from __future__ import annotations

import random

from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from tenants.agents.models import User
from tests.factories import OWNER_PASSWORD, host_of


def owner_of(tenant) -> User:
    with tenant_context(tenant):
        owner = User.objects.get(role=User.Role.OWNER)
    connection.set_schema_to_public()
    return owner


def client_for(tenant, *, port: int | None = None) -> Client:
    """A client on the workspace's host, from an address of its own (IP-keyed rate limits)."""
    host = host_of(tenant) + (f":{port}" if port else "")
    address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    return Client(HTTP_HOST=host, REMOTE_ADDR=address)


def signed_in(tenant, user) -> Client:
    """A client with a session stored in `tenant`'s schema, as after a real sign-in."""
    client = client_for(tenant)
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_schema_to_public()
    return client


def sign_in(client: Client, email: str, password: str = OWNER_PASSWORD):
    """Sign in through allauth's login form; returns the response."""
    return client.post("/accounts/login/", {"login": email, "password": password})


def in_schema(tenant, fn):
    """Run fn() inside tenant's schema and return its result."""
    with tenant_context(tenant):
        result = fn()
    connection.set_schema_to_public()
    return result
