"""Reads the real-time layer needs. Each runs in a DB worker thread via `tenant_db`/`public_db`."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TypedDict

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest
from django_tenants.utils import remove_www

from tenants.agents.models import User
from tenants.models import Domain, Tenant


@dataclass(frozen=True)
class HostTenant:
    tenant: Tenant
    hosts: frozenset[str]


def tenant_for_host(*, host: str) -> HostTenant | None:
    """The workspace (or the public site) served on `host`, with all of its hosts. Public schema.

    `host` is already lower-cased and without port, as the HTTP middleware sees it.
    """
    domain = Domain.objects.select_related("tenant").filter(domain=remove_www(host)).first()
    if domain is None:
        return None
    hosts = frozenset(domain.tenant.domains.values_list("domain", flat=True))
    return HostTenant(tenant=domain.tenant, hosts=hosts)


def agent_for_session(*, session_key: str) -> User | None:
    """The active agent signed in with this session cookie, or None. Tenant schema.

    Django's own session check (django.contrib.auth.get_user) does the work, so a session whose
    password hash no longer matches is refused (and flushed) exactly as on an HTTP request.
    """
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = auth.get_user(request)
    if not user.is_authenticated or not user.is_active:
        return None
    return user


class AgentHello(TypedDict):
    id: int
    name: str
    email: str
    role: str
    status: str


def agent_hello(*, agent_id: int) -> AgentHello | None:
    """What an agent socket is told about its agent on connect. Tenant schema."""
    agent = (
        User.objects.filter(pk=agent_id, is_active=True)
        .values("id", "name", "email", "role", "status")
        .first()
    )
    return agent
