"""Absolute links between the public site and workspaces.

A visitor on http://localhost:8000 must land on http://acme.localhost:8000, so links keep the
scheme and port of the request that produced them instead of assuming production defaults.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def request_port(request: HttpRequest) -> str | None:
    """The explicit port of the request's Host header, or None when it used the default."""
    host = request.get_host()
    if host.endswith("]") or ":" not in host:
        return None
    return host.rsplit(":", 1)[1] or None


def host_url(request: HttpRequest, host: str, path: str = "/") -> str:
    port = request_port(request)
    origin = f"{request.scheme}://{host}" + (f":{port}" if port else "")
    return origin + path


def public_site_url(request: HttpRequest, path: str = "/") -> str:
    return host_url(request, settings.BASE_DOMAIN, path)
