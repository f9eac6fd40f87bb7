from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware


class TenantHostMiddleware(TenantMainMiddleware):
    """Finds the workspace from the Host header: "<slug>.<BASE_DOMAIN>" or a custom domain.

    Unknown hosts get settings.DEFAULT_NOT_FOUND_TENANT_VIEW (a friendly 404).
    """


class TenantSuspendedMiddleware:
    """A suspended workspace answers every request with an "unavailable" page; data is kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if tenant is not None and not tenant.is_public and tenant.is_suspended:
            if request.path.startswith("/api/"):
                from django.http import JsonResponse

                return JsonResponse(
                    {
                        "error": {
                            "code": "workspace_suspended",
                            "message": "This workspace is unavailable.",
                        }
                    },
                    status=503,
                )
            return render(request, "tenants/suspended.html", {"tenant": tenant}, status=503)
        return self.get_response(request)


def current_schema() -> str:
    return connection.schema_name
