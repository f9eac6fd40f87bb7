from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware


class TenantHostMiddleware(TenantMainMiddleware):
    """Finds the workspace from the Host header: "<slug>.<BASE_DOMAIN>" or a custom domain.

    Unknown hosts get settings.DEFAULT_NOT_FOUND_TENANT_VIEW (a friendly 404).
    """

    @staticmethod
    def hostname_from_request(request: HttpRequest) -> str:
        # Host names are case-insensitive and Domain rows are stored lowercase; the WebSocket
        # middleware normalises the same way.
        return TenantMainMiddleware.hostname_from_request(request).lower()


class TenantSuspendedMiddleware:
    """A suspended workspace answers every request with an "unavailable" page; data is kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is not None and not tenant.is_public and tenant.is_suspended:
            if request.path.startswith("/api/"):
                from django.http import JsonResponse

                from helpdesk.api.errors import error_body

                return JsonResponse(
                    error_body("workspace_suspended", "This workspace is unavailable."),
                    status=503,
                )
            from tenants.hosts import public_site_url

            context = {"tenant": tenant, "public_url": public_site_url(request)}
            return render(request, "tenants/suspended.html", context, status=503)
        return self.get_response(request)
