"""Which store sites may embed a workspace's widget (WidgetSettings.allowed_domains)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def store_host_allowed(*, host: str, allowed: Iterable[str], own_hosts: Iterable[str] = ()) -> bool:
    """True when `host` is one of the allowed store domains, or any host if none are set.

    "shop.example" allows exactly that host; "*.shop.example" allows its subdomains and the
    domain itself. The workspace's own hosts are always allowed (the settings preview).
    """
    host = (host or "").strip().lower().rstrip(".")
    allowed = [a.strip().lower().rstrip(".") for a in allowed if a and a.strip()]
    if host in {h.lower() for h in own_hosts}:
        return True
    if not allowed:
        return True
    if not host:
        return False
    for pattern in allowed:
        if pattern.startswith("*."):
            base = pattern[2:]
            if host == base or host.endswith("." + base):
                return True
        elif host == pattern:
            return True
    return False


def url_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
