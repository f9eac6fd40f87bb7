"""API tokens in the Authorization header, checked against the current workspace's schema only."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

# "Token" is accepted too because many HTTP clients and DRF habits send it.
KEYWORDS = ("bearer", "token")
INVALID_TOKEN = "Invalid or revoked API token."


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer hd_<prefix>_<secret>` (or `Token ...`).

    A request without such a header is left to the next authenticator (the session); a request
    with one either authenticates or fails outright, so a bad token never falls back silently.
    """

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Bearer <token>'.", code="invalid_header"
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN, code="invalid_token") from None
        tenant = getattr(request._request, "tenant", None)
        if tenant is None or tenant.is_public:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN, code="invalid_token")
        # Imported here: DRF loads this module with rest_framework.views, possibly before the
        # app registry (and so the token model) is ready.
        from tenants.agents.tokens import api_token_authenticate

        found = api_token_authenticate(raw=raw)
        if found is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN, code="invalid_token")
        return found

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
