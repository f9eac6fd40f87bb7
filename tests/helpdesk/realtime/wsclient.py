"""Sockets opened against the real ASGI app, and the sessions they carry."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django_tenants.utils import tenant_context

from tests.factories import host_of

SHARED_EMAIL = "sam@shared.example"


@dataclass
class Workspace:
    tenant: object
    host: str
    owner: object
    sam: object  # same id and email in both workspaces, different name


def run(coro):
    return asyncio.run(coro)


def session_cookie(tenant, user) -> str:
    """A real Django session for `user`, stored in the tenant's schema as a login would."""
    client = Client(HTTP_HOST=host_of(tenant))
    with tenant_context(tenant):
        client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def socket(host: str, *, cookie: str | None = None, origin: str | None = "same", path="/ws/agent/"):
    from helpdesk.asgi import application

    headers = [(b"host", f"{host}:8000".encode())]
    if origin == "same":
        origin = f"http://{host}:8000"
    if origin:
        headers.append((b"origin", origin.encode()))
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def receive(comm, timeout: float = 5):
    return await comm.receive_json_from(timeout=timeout)
