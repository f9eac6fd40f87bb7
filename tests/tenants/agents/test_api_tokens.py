"""The token services: what is stored, what authenticates, what is refused."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.agents.models import ApiToken, User
from tenants.agents.tokens import (
    ACTIVE_TOKENS_PER_AGENT,
    api_token_authenticate,
    api_token_create,
    api_token_list,
    api_token_revoke,
)
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def _owner():
    return User.objects.get(role=User.Role.OWNER)


def test_created_token_has_the_documented_format_and_only_its_hash_is_stored(tenant):
    with tenant_context(tenant):
        issued = api_token_create(user=_owner(), name="  Shop sync  ")

        scheme, prefix, secret = issued.secret.split("_", 2)
        assert scheme == "hd"
        assert re.fullmatch(r"[a-z0-9]{8}", prefix)
        assert len(secret) >= 40
        stored = ApiToken.objects.get()
        assert stored.name == "Shop sync"
        assert stored.prefix == prefix
        assert stored.token_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
        row = ApiToken.objects.filter(pk=stored.pk).values().get()
        assert not any(secret in str(value) for value in row.values())


def test_two_tokens_never_share_a_secret(tenant):
    with tenant_context(tenant):
        owner = _owner()
        first = api_token_create(user=owner, name="a").secret
        second = api_token_create(user=owner, name="b").secret
    assert first != second


def test_a_valid_token_authenticates_its_agent_and_marks_it_used(tenant):
    with tenant_context(tenant):
        owner = _owner()
        issued = api_token_create(user=owner, name="CI")

        user, token = api_token_authenticate(raw=issued.secret)

        assert user == owner
        assert token.pk == issued.token.pk
        assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "hd_",
        "hd_abcdefgh",
        "hd_abcdefgh_short",
        "xx_abcdefgh_" + "a" * 43,
        "hd_ABCDEFGH_" + "a" * 43,
        "hd_abcdefgh_" + "a" * 43,  # well formed but unknown
        "' OR 1=1 --",
    ],
)
def test_malformed_or_unknown_tokens_do_not_authenticate(tenant, raw):
    with tenant_context(tenant):
        api_token_create(user=_owner(), name="CI")
        assert api_token_authenticate(raw=raw) is None
        assert ApiToken.objects.get().last_used_at is None


def test_revoked_token_no_longer_authenticates(tenant):
    with tenant_context(tenant):
        owner = _owner()
        issued = api_token_create(user=owner, name="CI")

        api_token_revoke(actor=owner, token_id=issued.token.pk)

        assert api_token_authenticate(raw=issued.secret) is None
        assert ApiToken.objects.get().revoked_at is not None


def test_revoking_twice_keeps_the_first_time(tenant):
    with tenant_context(tenant):
        owner = _owner()
        issued = api_token_create(user=owner, name="CI")
        first = api_token_revoke(actor=owner, token_id=issued.token.pk).revoked_at
        second = api_token_revoke(actor=owner, token_id=issued.token.pk).revoked_at
    assert first == second


def test_an_agent_cannot_revoke_someone_elses_token(tenant):
    agent = AgentFactory(tenant=tenant)
    with tenant_context(tenant):
        issued = api_token_create(user=_owner(), name="Owner's")

        with pytest.raises(ApiToken.DoesNotExist):
            api_token_revoke(actor=agent, token_id=issued.token.pk)

        assert ApiToken.objects.get().revoked_at is None
        assert api_token_authenticate(raw=issued.secret) is not None


@pytest.mark.parametrize("token_id", ["abc", "-1", "0", str(2**70), None])
def test_revoking_a_nonsense_id_is_not_found(tenant, token_id):
    with tenant_context(tenant), pytest.raises(ApiToken.DoesNotExist):
        api_token_revoke(actor=_owner(), token_id=token_id)


def test_a_deactivated_agents_tokens_stop_working(tenant):
    agent = AgentFactory(tenant=tenant)
    with tenant_context(tenant):
        issued = api_token_create(user=agent, name="CI")
        User.objects.filter(pk=agent.pk).update(is_active=False)

        assert api_token_authenticate(raw=issued.secret) is None


def test_a_deactivated_agent_cannot_create_tokens(tenant):
    agent = AgentFactory(tenant=tenant, is_active=False)
    with tenant_context(tenant):
        with pytest.raises(ValidationError):
            api_token_create(user=agent, name="CI")
        assert not ApiToken.objects.exists()


def test_a_token_of_one_workspace_is_unknown_in_another(tenant, other_tenant):
    with tenant_context(tenant):
        issued = api_token_create(user=_owner(), name="CI")
    with tenant_context(other_tenant):
        assert api_token_authenticate(raw=issued.secret) is None


def test_last_used_is_written_at_most_once_a_minute(tenant):
    with tenant_context(tenant):
        issued = api_token_create(user=_owner(), name="CI")
        recent = timezone.now() - timedelta(seconds=30)
        ApiToken.objects.update(last_used_at=recent)

        api_token_authenticate(raw=issued.secret)
        assert ApiToken.objects.get().last_used_at == recent

        old = timezone.now() - timedelta(minutes=2)
        ApiToken.objects.update(last_used_at=old)
        api_token_authenticate(raw=issued.secret)
        assert ApiToken.objects.get().last_used_at > old


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        ("x" * 81, "max_length"),
        ("CI\r\nX-Injected: 1", "invalid"),
        ("tab\there", "invalid"),
        ("zero\u200bwidth", "invalid"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_stored(tenant, name, code):
    with tenant_context(tenant):
        with pytest.raises(ValidationError) as exc:
            api_token_create(user=_owner(), name=name)
        assert exc.value.code == code
        assert not ApiToken.objects.exists()


def test_markup_in_a_name_is_kept_as_text(tenant):
    with tenant_context(tenant):
        issued = api_token_create(user=_owner(), name="<img src=x onerror=alert(1)>")
    assert issued.token.name == "<img src=x onerror=alert(1)>"


def test_an_agent_has_a_bounded_number_of_active_tokens(tenant):
    with tenant_context(tenant):
        owner = _owner()
        for n in range(ACTIVE_TOKENS_PER_AGENT):
            api_token_create(user=owner, name=f"t{n}")

        with pytest.raises(ValidationError) as exc:
            api_token_create(user=owner, name="one too many")
        assert exc.value.code == "too_many"
        assert ApiToken.objects.count() == ACTIVE_TOKENS_PER_AGENT

        api_token_revoke(actor=owner, token_id=ApiToken.objects.first().pk)
        api_token_create(user=owner, name="after a revoke")


def test_list_shows_only_the_actors_tokens(tenant):
    agent = AgentFactory(tenant=tenant)
    with tenant_context(tenant):
        owner = _owner()
        mine = api_token_create(user=owner, name="mine").token
        api_token_create(user=agent, name="theirs")

        assert list(api_token_list(actor=owner)) == [mine]
