"""Pages served on hosts that have no usable workspace, and the error handlers."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import set_urlconf
from django.views import defaults

from tenants.connection import connection
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


def _request_state_restore(request: HttpRequest) -> None:
    """Point this thread's database connection and urlconf back at the request's workspace.

    Under ASGI, Django turns an exception into its error page in a worker thread
    (sync_to_async(thread_sensitive=False)) whose connection is on whatever schema that thread
    last used and whose urlconf is the default. The 404 and 403 templates run the workspace's
    context processor (settings row, signed-in agent) and reverse URLs, so without this they would
    read another schema or fail.
    """
    tenant = getattr(request, "tenant", None)
    if tenant is not None and connection.schema_name != tenant.schema_name:
        connection.set_tenant(tenant)
    # None means ROOT_URLCONF (a workspace host); the thread may still hold the public one.
    set_urlconf(getattr(request, "urlconf", None))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: templates/404.html in the right schema whichever thread renders it."""
    _request_state_restore(request)
    return defaults.page_not_found(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: templates/403.html, with the same care as page_not_found."""
    _request_state_restore(request)
    return defaults.permission_denied(request, exception)
