"""ASGI middleware for WebSockets: which workspace, from which page, which agent.

A refused socket is closed before it is accepted, so the browser only sees a failed handshake
(daphne answers 403); the codes below are what tests and the ASGI log see.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import parse_cookie
from django.http.request import split_domain_port

from helpdesk.realtime.db import public_db, tenant_db
from helpdesk.realtime.selectors import agent_for_session, tenant_for_host

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_SUSPENDED = 4503


async def websocket_refuse(receive, send, *, code: int) -> None:
    """Answer the handshake with a close instead of an accept."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": code})


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return None


def _hostname(value: str | None) -> str:
    """Lower-cased host without port ("" if malformed), the way the HTTP side compares hosts."""
    if not value:
        return ""
    domain, _port = split_domain_port(value.strip())
    return domain


class TenantWebsocketMiddleware:
    """Finds the workspace from the Host header and puts it in the scope.

    Same rules as TenantMainMiddleware on HTTP: a Domain row in the public schema, port ignored,
    case-insensitive. Unknown host → 4404, suspended workspace → 4503. The lookup runs through
    `public_db`, which puts the worker thread's connection back the way it found it.
    """

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        host = _hostname(_header(scope, b"host"))
        found = await public_db(tenant_for_host, host=host) if host else None
        if found is None:
            return await websocket_refuse(receive, send, code=CLOSE_NOT_FOUND)
        if not found.tenant.is_public and found.tenant.is_suspended:
            return await websocket_refuse(receive, send, code=CLOSE_SUSPENDED)
        scope = dict(
            scope,
            tenant=found.tenant,
            schema_name=found.tenant.schema_name,
            tenant_hosts=found.hosts,
        )
        return await self.inner(scope, receive, send)


class TenantOriginMiddleware:
    """Only pages served from the workspace's own hosts may open the socket (4403 otherwise).

    Browsers send the cookie with a cross-site WebSocket handshake, so without this check any web
    page could open an agent socket with the agent's session. ALLOWED_HOSTS is "*" (custom domains
    are checked against the Domain table), which is why Channels' AllowedHostsOriginValidator
    would let everything through; this compares with the tenant's own Domain rows instead. Scheme
    and port are not compared, like Django's CSRF host check for same-site requests.
    """

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        origin = _header(scope, b"origin")
        origin_host = _hostname(urlsplit(origin).netloc) if origin else ""
        if not origin_host or origin_host not in scope.get("tenant_hosts", ()):
            return await websocket_refuse(receive, send, code=CLOSE_FORBIDDEN_ORIGIN)
        return await self.inner(scope, receive, send)


class AgentSessionMiddleware:
    """Puts the agent signed in with the session cookie in scope["user"] (AnonymousUser if none).

    The session and the user are read inside the tenant's schema, so a session cookie from one
    workspace means nothing on another's host. Channels' AuthMiddlewareStack is not used: it
    reads the session with whatever schema the worker thread's connection last had.
    """

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        tenant = scope.get("tenant")
        if tenant is None or tenant.is_public:
            # Agents exist only inside workspaces; the public site has no agent sockets.
            return await websocket_refuse(receive, send, code=CLOSE_NOT_FOUND)
        cookies = parse_cookie(_header(scope, b"cookie") or "")
        session_key = cookies.get(settings.SESSION_COOKIE_NAME)
        user = None
        if session_key:
            user = await tenant_db(tenant, agent_for_session, session_key=session_key)
        return await self.inner(dict(scope, user=user or AnonymousUser()), receive, send)
