"""The platform operator's console (/operator/ on the public host) and its services."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from tenants.agents.models import User
from tenants.models import Domain, Tenant
from tenants.services.operator import tenant_delete, tenant_reactivate, tenant_suspend
from tests.factories import OWNER_PASSWORD, AgentFactory, host_of

pytestmark = pytest.mark.django_db

CHANGELIST = "/operator/tenants/tenant/"


def _op(client, method, path, data=None, **extra):
    return getattr(client, method)(path, data or {}, HTTP_HOST="localhost", **extra)


def _owner_login(client, tenant):
    return client.post(
        "/accounts/login/",
        {"login": f"owner@{tenant.slug}.example", "password": OWNER_PASSWORD},
        HTTP_HOST=host_of(tenant),
    )


# Platform staff accounts


def test_createsuperuser_makes_a_platform_operator_who_can_sign_in(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "operator-pass-Kiwi-42")

    call_command(
        "createsuperuser",
        interactive=False,
        email="Ops@Platform.example",
        name="Olga Ops",
        stdout=io.StringIO(),
    )

    user = User.objects.get()  # in the public schema
    assert connection.schema_name == "public"
    assert user.email == "ops@platform.example"
    assert user.is_staff and user.is_superuser
    login = _op(
        client,
        "post",
        "/operator/login/?next=/operator/",
        {"username": "OPS@platform.example ", "password": "operator-pass-Kiwi-42"},
    )
    assert login.status_code == 302
    assert login["Location"] == "/operator/"
    page = _op(client, "get", "/operator/")
    assert page.status_code == 200
    assert b"Helpdesk operator" in page.content


def test_anonymous_visitor_is_sent_to_the_operator_login(client):
    response = _op(client, "get", CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/operator/login/")


def test_a_workspace_session_does_not_open_the_operator_console(client, tenant):
    """An owner's session cookie from a workspace host replayed on the public host."""
    assert _owner_login(client, tenant).status_code == 302

    response = _op(client, "get", CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/operator/login/")


def test_workspace_owner_credentials_do_not_work_on_the_operator_login(client, tenant):
    response = _op(
        client,
        "post",
        "/operator/login/",
        {"username": "owner@acme.example", "password": OWNER_PASSWORD},
    )

    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session


# The workspace list


def test_changelist_shows_workspaces_not_the_public_site(admin_client, tenant, other_tenant):
    response = _op(admin_client, "get", CHANGELIST)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme" in body and "Globex" in body
    assert "owner@acme.example" in body
    assert "acme.localhost" in body
    assert 'href="http://acme.localhost/"' in body  # opens the workspace
    assert ">Platform<" not in body  # the public tenant's name
    assert list(response.context["cl"].queryset) == [other_tenant, tenant]


def test_changelist_open_link_keeps_the_port(admin_client, tenant):
    response = admin_client.get(CHANGELIST, HTTP_HOST="localhost:8000")

    assert 'href="http://acme.localhost:8000/"' in response.content.decode()


def test_changelist_search_and_status_filter(admin_client, tenant, other_tenant):
    tenant_suspend(tenant=tenant)

    found = _op(admin_client, "get", CHANGELIST, {"q": "globex"})
    suspended = _op(admin_client, "get", CHANGELIST, {"status__exact": "suspended"})
    by_domain = _op(admin_client, "get", CHANGELIST, {"q": "acme.localhost"})

    assert list(found.context["cl"].queryset) == [other_tenant]
    assert list(suspended.context["cl"].queryset) == [tenant]
    assert list(by_domain.context["cl"].queryset) == [tenant]


def test_changelist_query_count_does_not_grow_with_workspaces(
    admin_client, make_tenant, django_assert_max_num_queries
):
    for n in range(6):
        make_tenant(slug=f"shop-{n}")

    with django_assert_max_num_queries(12):
        response = _op(admin_client, "get", CHANGELIST)

    assert response.status_code == 200
    assert response.content.decode().count(".localhost ↗</a>") == 6


def test_workspace_page_shows_hosts_read_only_and_no_add(admin_client, tenant):
    page = _op(admin_client, "get", f"{CHANGELIST}{tenant.pk}/change/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "acme.localhost" in body
    assert 'name="domains-0-domain"' not in body  # shown, not editable
    assert "Suspend" in body and "Delete workspace" in body
    assert _op(admin_client, "get", f"{CHANGELIST}add/").status_code == 403


def test_editing_a_workspace_cannot_change_its_address_or_status(admin_client, tenant):
    data = {
        "name": "Acme Renamed",
        "slug": "hijack",
        "schema_name": "public",
        "status": "suspended",
        "domains-TOTAL_FORMS": "1",
        "domains-INITIAL_FORMS": "1",
        "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000",
        "domains-0-id": str(tenant.domains.get().pk),
        "domains-0-tenant": str(tenant.pk),
        "domains-0-domain": "evil.example",
    }

    response = _op(admin_client, "post", f"{CHANGELIST}{tenant.pk}/change/", data)

    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.name == "Acme Renamed"
    assert (tenant.slug, tenant.schema_name, tenant.status) == ("acme", "acme", "active")
    assert list(tenant.domains.values_list("domain", flat=True)) == ["acme.localhost"]


def test_markup_in_a_workspace_name_is_inert_in_the_console(admin_client, make_tenant):
    bad = make_tenant(slug="xss", company_name="<img src=x onerror=alert(1)>")

    for path in (CHANGELIST, f"{CHANGELIST}{bad.pk}/change/", f"{CHANGELIST}{bad.pk}/delete/"):
        body = _op(admin_client, "get", path).content
        assert b"<img src=x onerror" not in body, path


# Suspend and reactivate


def test_suspend_action_closes_the_workspace_and_keeps_its_data(admin_client, client, tenant):
    AgentFactory(tenant=tenant, email="agent@acme.example")

    response = _op(
        admin_client,
        "post",
        CHANGELIST,
        {"action": "suspend_selected", "_selected_action": [tenant.pk]},
    )

    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.is_suspended and tenant.suspended_at is not None
    assert _owner_login(client, tenant).status_code == 503
    assert "_auth_user_id" not in client.session
    with tenant_context(tenant):
        assert set(User.objects.values_list("email", flat=True)) == {
            "owner@acme.example",
            "agent@acme.example",
        }


def test_reactivate_action_lets_agents_sign_in_again(admin_client, client, tenant):
    tenant_suspend(tenant=tenant)

    _op(
        admin_client,
        "post",
        CHANGELIST,
        {"action": "reactivate_selected", "_selected_action": [tenant.pk]},
    )

    tenant.refresh_from_db()
    assert not tenant.is_suspended and tenant.suspended_at is None
    assert _owner_login(client, tenant).status_code == 302
    assert client.get("/", HTTP_HOST=host_of(tenant)).status_code == 200


def test_a_signed_in_agent_is_shut_out_at_once_by_suspension(client, tenant):
    assert _owner_login(client, tenant).status_code == 302
    assert client.get("/", HTTP_HOST=host_of(tenant)).status_code == 200

    tenant_suspend(tenant=tenant)

    assert client.get("/", HTTP_HOST=host_of(tenant)).status_code == 503


def test_suspend_and_reactivate_buttons_are_post_only(admin_client, tenant):
    url = f"{CHANGELIST}{tenant.pk}/suspend/"

    assert _op(admin_client, "get", url).status_code == 405
    tenant.refresh_from_db()
    assert not tenant.is_suspended

    assert _op(admin_client, "post", url).status_code == 302
    tenant.refresh_from_db()
    assert tenant.is_suspended

    assert _op(admin_client, "post", f"{CHANGELIST}{tenant.pk}/reactivate/").status_code == 302
    tenant.refresh_from_db()
    assert not tenant.is_suspended


def test_suspending_one_workspace_leaves_the_other_alone(admin_client, tenant, other_tenant):
    _op(
        admin_client,
        "post",
        CHANGELIST,
        {"action": "suspend_selected", "_selected_action": [tenant.pk]},
    )

    other_tenant.refresh_from_db()
    assert not other_tenant.is_suspended


def test_the_public_site_cannot_be_suspended_or_deleted(admin_client):
    public = Tenant.objects.get(schema_name="public")

    with pytest.raises(ValidationError):
        tenant_suspend(tenant=public)
    with pytest.raises(ValidationError):
        tenant_delete(tenant=public, confirm_slug="public")
    assert _op(admin_client, "post", f"{CHANGELIST}{public.pk}/suspend/").status_code == 404
    assert _op(admin_client, "get", f"{CHANGELIST}{public.pk}/delete/").status_code == 404
    public.refresh_from_db()
    assert not public.is_suspended
    assert _op(admin_client, "get", "/").status_code == 200


def test_suspend_and_reactivate_are_idempotent(tenant):
    tenant_suspend(tenant=tenant)
    first = Tenant.objects.get(pk=tenant.pk).suspended_at
    tenant_suspend(tenant=tenant)
    assert Tenant.objects.get(pk=tenant.pk).suspended_at == first

    tenant_reactivate(tenant=tenant)
    tenant_reactivate(tenant=tenant)
    assert not Tenant.objects.get(pk=tenant.pk).is_suspended


# Delete


def test_delete_page_asks_for_the_address_and_shows_what_goes(admin_client, tenant):
    AgentFactory(tenant=tenant)

    page = _op(admin_client, "get", f"{CHANGELIST}{tenant.pk}/delete/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "Type <code>acme</code> to confirm" in body
    assert "cannot be undone" in body
    assert page.context["footprint"].agents == 2
    assert page.context["footprint"].domains == ["acme.localhost"]


@pytest.mark.parametrize("typed", ["", "acm", "ACME", "globex", "acme; DROP SCHEMA public"])
def test_delete_with_the_wrong_address_deletes_nothing(admin_client, tenant, other_tenant, typed):
    response = _op(
        admin_client, "post", f"{CHANGELIST}{tenant.pk}/delete/", {"confirm_slug": typed}
    )

    assert response.status_code == 400
    assert Tenant.objects.filter(pk=tenant.pk).exists()
    assert Domain.objects.filter(domain="acme.localhost").exists()
    assert schema_exists("acme") and schema_exists("globex")
    with tenant_context(tenant):
        assert User.objects.exists()


def test_delete_with_the_address_typed_drops_schema_rows_and_files(
    admin_client, client, tenant, other_tenant, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    files = Path(tmp_path, "acme", "logos")
    files.mkdir(parents=True)
    (files / "logo.png").write_bytes(b"png")
    Path(tmp_path, "globex").mkdir()

    response = _op(
        admin_client, "post", f"{CHANGELIST}{tenant.pk}/delete/", {"confirm_slug": "acme"}
    )

    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    assert not Tenant.objects.filter(slug="acme").exists()
    assert not Domain.objects.filter(domain="acme.localhost").exists()
    assert not schema_exists("acme")
    assert schema_exists("globex")
    assert client.get("/", HTTP_HOST="acme.localhost").status_code == 404
    assert client.get("/accounts/login/", HTTP_HOST=host_of(other_tenant)).status_code == 200
    from django.contrib.admin.models import DELETION, LogEntry

    assert LogEntry.objects.filter(action_flag=DELETION, object_repr__contains="acme").exists()


def test_files_are_removed_after_the_deletion_commits(tenant, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    Path(tmp_path, "acme").mkdir()
    Path(tmp_path, "acme", "a.txt").write_text("x")

    # `db` tests run inside a transaction: on_commit callbacks are captured, run them here.
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        tenant_delete(tenant=tenant, confirm_slug="acme")

    assert not Path(tmp_path, "acme").exists()


def test_bulk_delete_action_is_not_offered_and_cannot_be_forced(admin_client, tenant, other_tenant):
    page = _op(admin_client, "get", CHANGELIST)
    actions = dict(page.context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions

    _op(
        admin_client,
        "post",
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [tenant.pk, other_tenant.pk],
            "post": "yes",
        },
    )

    assert Tenant.objects.filter(pk__in=[tenant.pk, other_tenant.pk]).count() == 2
    assert schema_exists("acme") and schema_exists("globex")


def test_delete_action_routes_one_workspace_to_the_confirmation(admin_client, tenant, other_tenant):
    one = _op(
        admin_client,
        "post",
        CHANGELIST,
        {"action": "delete_one_with_confirmation", "_selected_action": [tenant.pk]},
    )
    two = _op(
        admin_client,
        "post",
        CHANGELIST,
        {
            "action": "delete_one_with_confirmation",
            "_selected_action": [tenant.pk, other_tenant.pk],
        },
        follow=True,
    )

    assert one.status_code == 302
    assert one["Location"] == f"{CHANGELIST}{tenant.pk}/delete/"
    assert "one at a time" in two.content.decode()
    assert Tenant.objects.filter(pk__in=[tenant.pk, other_tenant.pk]).count() == 2


def test_staff_without_permissions_cannot_suspend_or_delete(client, tenant):
    staff = User.objects.create_user(email="viewer@platform.example", password="x" * 12)
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)

    assert _op(client, "post", f"{CHANGELIST}{tenant.pk}/suspend/").status_code == 403
    assert (
        _op(
            client, "post", f"{CHANGELIST}{tenant.pk}/delete/", {"confirm_slug": "acme"}
        ).status_code
        == 403
    )
    tenant.refresh_from_db()
    assert not tenant.is_suspended
    assert schema_exists("acme")
