"""A workspace's custom domain: validation, uniqueness across workspaces, removal."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tenants.models import Domain
from tenants.workspace.services import custom_domain_normalize
from tests.factories import AgentFactory
from tests.tenants.agents.clients import owner_of, signed_in

pytestmark = pytest.mark.django_db


def _custom(tenant):
    return list(
        Domain.objects.filter(tenant=tenant, is_primary=False).values_list("domain", flat=True)
    )


def test_admin_adds_a_domain_and_the_workspace_answers_on_it(tenant):
    client = signed_in(tenant, owner_of(tenant))

    response = client.post("/settings/domain/", {"domain": "  Help.Acme-Shop.COM. "})

    assert response.status_code == 302
    assert _custom(tenant) == ["help.acme-shop.com"]
    page = client.get("/settings/")
    assert b"CNAME" in page.content and b"acme.localhost" in page.content
    on_custom = Client(HTTP_HOST="help.acme-shop.com").get("/accounts/login/")
    assert on_custom.status_code == 200 and b"Acme" in on_custom.content


def test_unicode_domain_is_stored_as_punycode(tenant):
    signed_in(tenant, owner_of(tenant)).post("/settings/domain/", {"domain": "hilfe.bücher.de"})

    assert _custom(tenant) == ["hilfe.xn--bcher-kva.de"]


BAD_DOMAINS = [
    ("https://help.acme.com/", "host name only"),
    ("help.acme.com:8443", "host name only"),
    ("help.acme.com/path", "host name only"),
    ("user@help.acme.com", "host name only"),
    ("localhost", "not a valid domain"),
    ("127.0.0.1", "not a valid domain"),
    ("-bad-.example.com", "not a valid domain"),
    ("under_score.example.com", "not a valid domain"),
    ("a" * 64 + ".example.com", "not a valid domain"),
    ("x.acme.com<script>", "not a valid domain"),
    ("a." * 127 + "com", "not a valid domain"),
    ("evil.localhost", "workspace addresses"),
    ("globex.localhost", "workspace addresses"),
    ("LOCALHOST.", "not a valid domain"),
]


@pytest.mark.parametrize(("value", "message"), BAD_DOMAINS)
def test_domain_syntax_and_reserved_names(value, message):
    with pytest.raises(ValidationError, match=message):
        custom_domain_normalize(value)


def test_invalid_or_reserved_domains_are_refused_with_a_form_error(tenant):
    client = signed_in(tenant, owner_of(tenant))

    for value, message in [("", "This field is required"), *BAD_DOMAINS[::3]]:
        response = client.post("/settings/domain/", {"domain": value})

        assert response.status_code == 400, value
        assert message.encode() in response.content, value
    assert _custom(tenant) == []


def test_domain_of_another_workspace_is_refused(tenant, other_tenant):
    signed_in(other_tenant, owner_of(other_tenant)).post(
        "/settings/domain/", {"domain": "support.example.com"}
    )

    response = signed_in(tenant, owner_of(tenant)).post(
        "/settings/domain/", {"domain": "SUPPORT.example.com"}
    )

    assert response.status_code == 400 and b"already in use" in response.content
    assert _custom(tenant) == []
    assert _custom(other_tenant) == ["support.example.com"]


def test_one_custom_domain_at_a_time(tenant):
    client = signed_in(tenant, owner_of(tenant))
    client.post("/settings/domain/", {"domain": "one.example.com"})

    response = client.post("/settings/domain/", {"domain": "two.example.com"})

    assert response.status_code == 400 and b"Remove it first" in response.content
    assert _custom(tenant) == ["one.example.com"]


def test_removing_the_domain_stops_it_reaching_the_workspace(tenant):
    client = signed_in(tenant, owner_of(tenant))
    client.post("/settings/domain/", {"domain": "gone.example.com"})
    domain = Domain.objects.get(domain="gone.example.com")

    response = client.post(f"/settings/domain/{domain.pk}/remove/")

    assert response.status_code == 302
    assert _custom(tenant) == []
    assert Client(HTTP_HOST="gone.example.com").get("/accounts/login/").status_code == 404


def test_the_workspace_address_cannot_be_removed(tenant):
    primary = Domain.objects.get(tenant=tenant, is_primary=True)

    response = signed_in(tenant, owner_of(tenant)).post(f"/settings/domain/{primary.pk}/remove/")

    assert response.status_code == 404
    assert Domain.objects.filter(pk=primary.pk).exists()


def test_domain_of_another_workspace_cannot_be_removed(tenant, other_tenant):
    signed_in(other_tenant, owner_of(other_tenant)).post(
        "/settings/domain/", {"domain": "theirs.example.com"}
    )
    theirs = Domain.objects.get(domain="theirs.example.com")

    response = signed_in(tenant, owner_of(tenant)).post(f"/settings/domain/{theirs.pk}/remove/")

    assert response.status_code == 404
    assert _custom(other_tenant) == ["theirs.example.com"]


def test_agent_cannot_add_or_remove_domains(tenant):
    owner = signed_in(tenant, owner_of(tenant))
    owner.post("/settings/domain/", {"domain": "kept.example.com"})
    domain = Domain.objects.get(domain="kept.example.com")
    agent = signed_in(tenant, AgentFactory(tenant=tenant))

    add = agent.post("/settings/domain/", {"domain": "agent.example.com"})
    remove = agent.post(f"/settings/domain/{domain.pk}/remove/")

    assert add.status_code == remove.status_code == 403
    assert _custom(tenant) == ["kept.example.com"]
