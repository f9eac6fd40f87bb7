"""Pages served on hosts that have no usable workspace."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.hosts import public_site_url


def unknown_host(request: HttpRequest) -> HttpResponse:
    """settings.DEFAULT_NOT_FOUND_TENANT_VIEW: the host matches no workspace."""
    host = request.get_host().split(":")[0]
    context = {
        "host": host,
        "public_url": public_site_url(request),
        "signup_url": public_site_url(request, "/signup/"),
        "find_url": public_site_url(request, "/#find"),
    }
    return render(request, "tenants/unknown_host.html", context, status=404)
