"""Operator commands: create_tenant and create_api_token, including refusals that change nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from tenants.agents.models import ApiToken, User
from tenants.agents.tokens import api_token_authenticate
from tenants.models import Domain, Tenant
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-Horse-battery-42"


def _create_tenant(*args: str) -> str:
    out = StringIO()
    call_command("create_tenant", *args, stdout=out)
    return out.getvalue()


def _workspaces() -> set[str]:
    connection.set_schema_to_public()
    return set(Tenant.objects.exclude(schema_name="public").values_list("slug", flat=True))


def test_our_create_tenant_replaces_django_tenants_own():
    assert get_commands()["create_tenant"] == "tenants"


def test_create_tenant_makes_the_workspace_and_its_owner(settings):
    settings.PUBLIC_PORT = 8000
    out = _create_tenant(
        "--slug", "acme", "--name", "Acme", "--owner-email", "Ann@Acme.example",
        "--owner-password", PASSWORD, "--owner-name", "Ann Owner",
        "--timezone", "Europe/Paris", "--language", "fr",
    )  # fmt: skip

    assert "http://acme.localhost:8000/" in out
    tenant = Tenant.objects.get(slug="acme")
    assert tenant.name == "Acme"
    assert Domain.objects.filter(tenant=tenant, domain="acme.localhost").exists()
    with tenant_context(tenant):
        owner = User.objects.get()
        assert (owner.email, owner.name, owner.role) == ("ann@acme.example", "Ann Owner", "owner")
        assert (owner.timezone, owner.language) == ("Europe/Paris", "fr")
        assert owner.check_password(PASSWORD)


def test_the_owner_name_defaults_from_the_email():
    _create_tenant(
        "--slug", "shop", "--name", "Shop", "--owner-email", "mia@shop.example",
        "--owner-password", PASSWORD,
    )  # fmt: skip

    with tenant_context(Tenant.objects.get(slug="shop")):
        assert User.objects.get().name == "mia"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"--slug": "admin"}, "reserved"),
        ({"--slug": "Bad_Slug"}, "lowercase"),
        ({"--slug": "pg-things"}, "reserved"),
        ({"--name": "   "}, "company name"),
        ({"--owner-email": "not-an-email"}, "email"),
        ({"--owner-password": "short"}, "too short"),
        ({"--owner-password": "password123"}, "common"),
        ({"--timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_bad_input_is_a_clear_error_and_creates_nothing(overrides, message):
    args = {
        "--slug": "acme",
        "--name": "Acme",
        "--owner-email": "ann@acme.example",
        "--owner-password": PASSWORD,
        **overrides,
    }
    before = _workspaces()

    with pytest.raises(CommandError) as exc:
        _create_tenant(*[part for pair in args.items() for part in pair])

    assert message in str(exc.value).lower()
    assert _workspaces() == before
    assert not schema_exists("acme")


def test_a_taken_slug_is_refused_and_the_existing_workspace_is_untouched(tenant):
    with pytest.raises(CommandError, match="already taken"):
        _create_tenant(
            "--slug", "acme", "--name", "Other", "--owner-email", "x@other.example",
            "--owner-password", PASSWORD,
        )  # fmt: skip

    assert Tenant.objects.get(slug="acme").name == "Acme"
    with tenant_context(tenant):
        assert not User.objects.filter(email="x@other.example").exists()


def test_an_unknown_language_is_refused_by_the_parser():
    with pytest.raises(CommandError, match="language"):
        _create_tenant(
            "--slug", "acme", "--name", "Acme", "--owner-email", "a@acme.example",
            "--owner-password", PASSWORD, "--language", "xx",
        )  # fmt: skip
    assert _workspaces() == set()


# ---- create_api_token -------------------------------------------------------------------


def _create_token(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_api_token_prints_only_the_token(tenant):
    agent = AgentFactory(tenant=tenant, email="ci@acme.example")

    out, err = _create_token("--tenant", "acme", "--email", "CI@acme.example", "--name", "CI")

    token = out.strip()
    assert out == token + "\n"
    assert token.startswith("hd_")
    assert token not in err
    with tenant_context(tenant):
        user, stored = api_token_authenticate(raw=token)
        assert user.pk == agent.pk
        assert stored.name == "CI"


def test_the_token_works_against_the_api(client, tenant):
    out, _ = _create_token("--tenant", "acme", "--email", "owner@acme.example")

    response = client.get(
        "/api/v1/me/", HTTP_HOST="acme.localhost", HTTP_AUTHORIZATION=f"Bearer {out.strip()}"
    )

    assert response.json()["email"] == "owner@acme.example"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tenant", "nope", "--email", "owner@acme.example"), "No workspace"),
        (("--tenant", "public", "--email", "owner@acme.example"), "No workspace"),
        (("--tenant", "acme", "--email", "ghost@acme.example"), "No agent"),
        (("--tenant", "acme", "--email", "owner@globex.example"), "No agent"),
        (("--tenant", "acme", "--email", "owner@acme.example", "--name", ""), "name"),
    ],
)
def test_create_api_token_refusals_create_nothing(tenant, other_tenant, args, message):
    with pytest.raises(CommandError, match=message):
        _create_token(*args)

    for t in (tenant, other_tenant):
        with tenant_context(t):
            assert not ApiToken.objects.exists()


def test_no_token_for_a_deactivated_agent(tenant):
    AgentFactory(tenant=tenant, email="gone@acme.example", is_active=False)

    with pytest.raises(CommandError, match="deactivated"):
        _create_token("--tenant", "acme", "--email", "gone@acme.example")

    with tenant_context(tenant):
        assert not ApiToken.objects.exists()


def test_no_token_in_a_suspended_workspace(tenant):
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.SUSPENDED)

    with pytest.raises(CommandError, match="suspended"):
        _create_token("--tenant", "acme", "--email", "owner@acme.example")

    with tenant_context(tenant):
        assert not ApiToken.objects.exists()
