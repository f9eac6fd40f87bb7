"""Our own 404, 403 and 500 pages instead of Django's bare ones (DEBUG off, as in production)."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import RequestFactory
from django.views.defaults import permission_denied, server_error
from django_tenants.utils import tenant_context

from tenants.agents.models import Invitation
from tests.factories import AgentFactory, host_of
from tests.tenants.agents.clients import client_for, owner_of, signed_in

DJANGO_404 = b"<h1>Not Found</h1>"
OUR_404 = b"We can't find that page"


@pytest.fixture(autouse=True)
def _production_errors(settings):
    settings.DEBUG = False


@pytest.mark.django_db
def test_unknown_page_on_a_workspace_host_shows_our_404(tenant):
    response = client_for(tenant).get("/no-such-page/")

    assert response.status_code == 404
    assert OUR_404 in response.content
    assert DJANGO_404 not in response.content
    assert b"Acme" in response.content  # the workspace's own brand, not the platform's
    assert b"/no-such-page/" in response.content
    assert b'href="/accounts/login/"' in response.content  # signed out: the way back is sign-in


@pytest.mark.django_db
def test_404_for_a_signed_in_agent_leads_home(tenant):
    response = signed_in(tenant, owner_of(tenant)).get("/team/nothing-here/")

    assert response.status_code == 404
    assert OUR_404 in response.content
    assert b'href="/"' in response.content
    assert b"Go to Home" in response.content


@pytest.mark.django_db
def test_unknown_page_on_the_public_host_shows_our_404(client):
    response = client.get("/no-such-page/", HTTP_HOST="localhost")

    assert response.status_code == 404
    assert OUR_404 in response.content
    assert DJANGO_404 not in response.content
    assert b'href="/#find"' in response.content


@pytest.mark.django_db
def test_404_escapes_the_path_it_shows(client):
    response = client.get("/<script>alert(1)</script>/", HTTP_HOST="localhost")

    assert response.status_code == 404
    assert b"<script>alert(1)</script>" not in response.content


@pytest.mark.django_db
def test_agent_refused_by_role_gets_the_403_page_and_nothing_is_stored(tenant):
    agent = AgentFactory(tenant=tenant, email="sofia@acme.example", name="Sofia Marquez")
    client = signed_in(tenant, agent)

    page = client.get("/settings/")
    invite = client.post("/team/invite/", {"email": "new@acme.example", "role": "agent"})

    for response in (page, invite):
        assert response.status_code == 403
        assert b"You can't do that here" in response.content
        assert b"Only the owner and admins" in response.content
        assert b'class="sidebar"' in response.content  # still inside the app, not a dead end
        assert b"403 Forbidden" not in response.content
    with tenant_context(tenant):
        assert not Invitation.objects.exists()
    connection.set_schema_to_public()


@pytest.mark.django_db
def test_djangos_403_handler_renders_our_page_without_the_exception_text():
    request = RequestFactory().get("/operator/secret/", HTTP_HOST="localhost")
    request.user = AnonymousUser()

    response = permission_denied(request, PermissionDenied("internal detail 7f3a"))

    assert response.status_code == 403
    assert b"You don't have access to this page" in response.content
    assert b"internal detail 7f3a" not in response.content


def test_500_page_needs_no_request_context_and_no_database():
    # No db fixture: any query fails here with "Database access not allowed". Django renders
    # 500.html with an empty context, so the page must be plain HTML.
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert b"{%" not in response.content and b"{{" not in response.content
    assert b'<a class="button" href="/">' in response.content


# Under ASGI (daphne), Django builds an error response in a worker thread of its own
# (sync_to_async(thread_sensitive=False)): that thread's connection may sit on another workspace's
# schema and its urlconf is whatever it last held. These render the 404 the way that thread does.


def _render_404_in_another_thread(request, *, thread_schema_tenant=None, thread_urlconf=None):
    from django.http import Http404
    from django.urls import get_resolver, set_urlconf

    result = {}

    def worker():
        set_urlconf(thread_urlconf)  # whatever an earlier request left in this thread
        if thread_schema_tenant is not None:
            connection.set_tenant(thread_schema_tenant)  # left there by an earlier request
        try:
            handler = get_resolver().resolve_error_handler(404)
            result["response"] = handler(request, Http404())
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    return result["response"]


def _set_logo(tenant, name):
    from tenants.workspace.models import WorkspaceSettings

    with tenant_context(tenant):
        WorkspaceSettings.objects.update_or_create(id=1, defaults={"logo": name})
    connection.set_schema_to_public()


@pytest.mark.django_db(transaction=True)
def test_404_built_in_another_thread_shows_the_requests_workspace(make_tenant):
    acme = make_tenant(slug="acme", company_name="Acme")
    globex = make_tenant(slug="globex", company_name="Globex")
    _set_logo(acme, "logos/acme-mark.png")
    _set_logo(globex, "logos/globex-mark.png")
    request = RequestFactory().get("/no-such-page/", HTTP_HOST=host_of(acme))
    request.tenant = acme
    request.user = AnonymousUser()

    response = _render_404_in_another_thread(
        request, thread_schema_tenant=globex, thread_urlconf="helpdesk.urls_public"
    )

    assert response.status_code == 404
    assert OUR_404 in response.content
    assert b"acme-mark" in response.content
    assert b"globex-mark" not in response.content
    assert b'href="/accounts/login/"' in response.content


@pytest.mark.django_db(transaction=True)
def test_404_built_in_another_thread_on_the_public_host_links_home():
    from django.conf import settings

    from tenants.models import Tenant

    request = RequestFactory().get("/no-such-page/", HTTP_HOST="localhost")
    request.tenant = Tenant.objects.get(schema_name="public")
    request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
    request.user = AnonymousUser()

    response = _render_404_in_another_thread(request)

    assert response.status_code == 404
    assert OUR_404 in response.content
    assert b'href="/#find"' in response.content
