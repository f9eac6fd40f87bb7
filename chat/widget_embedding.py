"""The chat frame's `frame-ancestors`: the browser-enforced side of the allowed store domains.

chat/allowed_domains.py decides whether a page's host may show the widget (the frame's Referer,
the page URL the socket reports); this turns the same list into CSP source expressions with the
same meaning: "shop.example" is that host, "*.shop.example" its subdomains and itself, any port
(settings drop ports), and the workspace's own hosts always.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A host name or IPv4 address, optionally "*."-prefixed. Stored values were normalised by the
# settings service; they are checked again because this string becomes a response header, where
# a stray ";" or space would add a directive or a source.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_RE = re.compile(rf"^(\*\.)?{_LABEL}(?:\.{_LABEL})*$")


def _sources(pattern: str) -> list[str]:
    value = pattern.strip().lower().rstrip(".")
    if not _HOST_RE.match(value):
        return []
    if value.startswith("*."):
        # CSP's "*.x" leaves out x itself, which the allowed-domains rule includes.
        return [f"{value}:*", f"{value[2:]}:*"]
    return [f"{value}:*"]


def frame_ancestors(*, allowed_domains: object, own_hosts: Iterable[str]) -> str:
    """`*` when the merchant allows every site, else 'self', own hosts and the listed hosts."""
    entries = (
        [e for e in allowed_domains if isinstance(e, str)]
        if isinstance(allowed_domains, list)
        else []
    )
    listed = [source for entry in entries for source in _sources(entry)]
    if not [e for e in entries if e.strip()]:
        return "*"
    own = [source for host in own_hosts for source in _sources(host)]
    # A list whose every entry was unusable still means "not everyone": 'self' alone is left.
    return " ".join(dict.fromkeys(["'self'", *own, *listed]))
