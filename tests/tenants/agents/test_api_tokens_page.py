"""/profile/api-tokens/: an agent lists, creates (secret shown once) and revokes their tokens."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tenants.agents.models import ApiToken, User
from tenants.agents.tokens import api_token_authenticate, api_token_create
from tests.factories import AgentFactory, host_of

pytestmark = pytest.mark.django_db

URL = "/profile/api-tokens/"


def revoke_url(token_id) -> str:
    return f"/profile/api-tokens/{token_id}/revoke/"


def _login(client, tenant, user):
    with tenant_context(tenant):
        client.force_login(user)
    connection.set_schema_to_public()


def _owner(tenant) -> User:
    with tenant_context(tenant):
        return User.objects.get(role=User.Role.OWNER)


def _tokens(tenant) -> list[ApiToken]:
    with tenant_context(tenant):
        return list(ApiToken.objects.order_by("pk"))


def _issue(tenant, user, name="Existing"):
    with tenant_context(tenant):
        return api_token_create(user=user, name=name)


def test_signed_out_visitors_are_sent_to_sign_in(client, tenant):
    response = client.get(URL, HTTP_HOST=host_of(tenant))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_empty_state_and_the_create_form(client, tenant):
    _login(client, tenant, _owner(tenant))

    response = client.get(URL, HTTP_HOST=host_of(tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "No API tokens yet" in html
    assert '<label for="id_name">Token name</label>' in html
    assert "no-store" in response["Cache-Control"]


def test_creating_shows_the_secret_once(client, tenant):
    _login(client, tenant, _owner(tenant))

    created = client.post(URL, {"name": "Shop sync"}, HTTP_HOST=host_of(tenant))

    assert created.status_code == 200
    html = created.content.decode()
    secret = re.search(r'<code id="new-token"[^>]*>(hd_[^<]+)</code>', html).group(1)
    assert "never be shown again" in html
    assert "no-store" in created["Cache-Control"]
    [token] = _tokens(tenant)
    assert token.name == "Shop sync"
    with tenant_context(tenant):
        assert api_token_authenticate(raw=secret) is not None

    later = client.get(URL, HTTP_HOST=host_of(tenant)).content.decode()
    assert secret not in later
    assert "Shop sync" in later
    assert f"hd_{token.prefix}_" in later


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, "CI\r\nBcc: x"])
def test_a_bad_name_shows_an_error_and_stores_nothing(client, tenant, name):
    _login(client, tenant, _owner(tenant))

    response = client.post(URL, {"name": name}, HTTP_HOST=host_of(tenant))

    assert response.status_code == 200
    assert 'class="errorlist"' in response.content.decode()
    assert 'id="new-token"' not in response.content.decode()
    assert _tokens(tenant) == []


def test_markup_in_a_token_name_is_shown_as_text(client, tenant):
    owner = _owner(tenant)
    _issue(tenant, owner, name="<img src=x onerror=alert(1)>")
    _login(client, tenant, owner)

    html = client.get(URL, HTTP_HOST=host_of(tenant)).content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_list_shows_only_my_tokens_with_their_status(client, tenant):
    owner = _owner(tenant)
    agent = AgentFactory(tenant=tenant)
    _issue(tenant, owner, name="Mine active")
    revoked = _issue(tenant, owner, name="Mine revoked").token
    _issue(tenant, agent, name="Someone else's")
    with tenant_context(tenant):
        from tenants.agents.tokens import api_token_revoke

        api_token_revoke(actor=owner, token_id=revoked.pk)
    _login(client, tenant, owner)

    html = client.get(URL, HTTP_HOST=host_of(tenant)).content.decode()

    assert "Mine active" in html and "Mine revoked" in html
    assert "Someone else" not in html
    assert "Revoked" in html and "Active" in html
    assert "Never" in html


def test_revoking_asks_first_and_changes_nothing_until_confirmed(client, tenant):
    owner = _owner(tenant)
    token = _issue(tenant, owner, name="CI").token
    _login(client, tenant, owner)

    response = client.get(revoke_url(token.pk), HTTP_HOST=host_of(tenant))

    assert response.status_code == 200
    assert "Revoke “CI”?" in response.content.decode()
    assert _tokens(tenant)[0].revoked_at is None


def test_confirming_revokes_the_token(client, tenant):
    owner = _owner(tenant)
    issued = _issue(tenant, owner, name="CI")
    _login(client, tenant, owner)

    response = client.post(revoke_url(issued.token.pk), HTTP_HOST=host_of(tenant))

    assert response.status_code == 302
    assert response["Location"] == URL
    assert _tokens(tenant)[0].revoked_at is not None
    with tenant_context(tenant):
        assert api_token_authenticate(raw=issued.secret) is None


def test_an_agent_cannot_revoke_someone_elses_token(client, tenant):
    owner = _owner(tenant)
    issued = _issue(tenant, owner, name="Owner's")
    agent = AgentFactory(tenant=tenant)
    _login(client, tenant, agent)

    seen = client.get(revoke_url(issued.token.pk), HTTP_HOST=host_of(tenant))
    posted = client.post(revoke_url(issued.token.pk), HTTP_HOST=host_of(tenant))

    assert (seen.status_code, posted.status_code) == (404, 404)
    assert _tokens(tenant)[0].revoked_at is None


def test_revoking_needs_a_post_with_csrf(tenant):
    from django.test import Client

    owner = _owner(tenant)
    issued = _issue(tenant, owner, name="CI")
    client = Client(enforce_csrf_checks=True)
    _login(client, tenant, owner)

    response = client.post(revoke_url(issued.token.pk), HTTP_HOST=host_of(tenant))

    assert response.status_code == 403
    assert _tokens(tenant)[0].revoked_at is None


def test_another_workspaces_token_id_is_404(client, tenant, other_tenant):
    foreign = [_issue(other_tenant, _owner(other_tenant), name=f"B{n}").token for n in range(3)]
    _issue(tenant, _owner(tenant), name="A0")
    _login(client, tenant, _owner(tenant))

    response = client.post(revoke_url(foreign[-1].pk), HTTP_HOST=host_of(tenant))

    assert response.status_code == 404
    assert all(t.revoked_at is None for t in _tokens(other_tenant))


def test_a_session_from_workspace_a_does_not_open_the_page_on_b(client, tenant, other_tenant):
    _issue(tenant, _owner(tenant), name="A's token")
    _login(client, tenant, _owner(tenant))

    response = client.get(URL, HTTP_HOST=host_of(other_tenant))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_account_menu_links_to_the_page(client, tenant):
    _login(client, tenant, _owner(tenant))

    html = client.get(URL, HTTP_HOST=host_of(tenant)).content.decode()

    assert f'href="{URL}">API tokens</a>' in html
