"""The team page and the role rules, enforced on the server whatever the page offers."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tenants.agents.models import User
from tests.factories import AgentFactory, host_of
from tests.tenants.agents.clients import in_schema, owner_of, signed_in

pytestmark = pytest.mark.django_db


def _member(tenant, pk):
    return in_schema(tenant, lambda: User.objects.get(pk=pk))


@pytest.fixture
def team(tenant):
    """The owner, an admin, a second admin and two agents of one workspace."""
    return {
        "owner": owner_of(tenant),
        "admin": AgentFactory(tenant=tenant, role="admin", name="Ada Admin"),
        "admin2": AgentFactory(tenant=tenant, role="admin", name="Abe Admin"),
        "agent": AgentFactory(tenant=tenant, name="Alex Agent"),
        "agent2": AgentFactory(tenant=tenant, name="Ann Agent"),
    }


def test_everyone_sees_the_team_but_only_admins_see_actions(tenant, team):
    as_agent = signed_in(tenant, team["agent"]).get("/team/")
    as_admin = signed_in(tenant, team["admin"]).get("/team/")

    assert as_agent.status_code == as_admin.status_code == 200
    for page in (as_agent, as_admin):
        for member in team.values():
            assert member.email.encode() in page.content
    assert b"Deactivate" not in as_agent.content
    assert b"Invite a teammate" not in as_agent.content
    assert b'id="invitations-title"' not in as_agent.content
    assert b"Deactivate" in as_admin.content
    assert b"Invite a teammate" in as_admin.content
    assert b'id="invitations-title"' in as_admin.content


def test_team_page_queries_do_not_grow_with_the_team(tenant, team, django_assert_max_num_queries):
    client = signed_in(tenant, team["owner"])
    client.get("/team/")  # warm the per-process caches (content types, settings row)
    for n in range(10):
        AgentFactory(tenant=tenant, name=f"Extra {n}")

    with django_assert_max_num_queries(12):
        response = client.get("/team/")

    assert response.status_code == 200
    assert response.content.count(b'class="person-name"') == 15


@pytest.mark.parametrize(
    ("actor", "target", "role", "allowed"),
    [
        ("owner", "agent", "admin", True),
        ("owner", "admin", "agent", True),
        ("admin", "agent", "admin", False),  # only the owner makes admins
        ("admin", "admin2", "agent", False),  # ... or unmakes them
        ("agent", "agent2", "admin", False),
        ("admin", "owner", "agent", False),  # nobody changes the owner
        ("owner", "owner", "admin", False),
        ("owner", "agent", "owner", False),  # there is one owner
    ],
)
def test_role_change_rules(tenant, team, actor, target, role, allowed):
    member = team[target]
    before = member.role

    response = signed_in(tenant, team[actor]).post(
        f"/team/members/{member.pk}/role/", {"role": role}
    )

    after = _member(tenant, member.pk).role
    if allowed:
        assert response.status_code == 302
        assert after == role
    else:
        assert response.status_code in (302, 403)
        assert after == before
        if role in ("admin", "agent"):
            assert response.status_code == 403


@pytest.mark.parametrize(
    ("actor", "target", "allowed"),
    [
        ("owner", "admin", True),
        ("owner", "agent", True),
        ("admin", "agent", True),
        ("admin", "admin2", False),  # admins are the owner's to deactivate
        ("admin", "admin", False),  # not yourself
        ("admin", "owner", False),  # never the owner
        ("owner", "owner", False),
        ("agent", "agent2", False),
        ("agent", "agent", False),
    ],
)
def test_deactivation_rules(tenant, team, actor, target, allowed):
    member = team[target]

    response = signed_in(tenant, team[actor]).post(f"/team/members/{member.pk}/deactivate/")

    after = _member(tenant, member.pk)
    if allowed:
        assert response.status_code == 302
        assert after.is_active is False and after.deactivated_at is not None
    else:
        assert response.status_code == 403
        assert after.is_active is True and after.deactivated_at is None


def test_refusal_page_explains_the_rule(tenant, team):
    response = signed_in(tenant, team["admin"]).post(
        f"/team/members/{team['owner'].pk}/deactivate/"
    )

    assert response.status_code == 403
    assert b"The owner cannot be deactivated." in response.content


def test_member_ids_of_another_workspace_are_not_found(tenant, other_tenant, team):
    theirs = AgentFactory(tenant=other_tenant, name="Globex Agent")
    # An id that exists only in the other workspace (this one has ids 1-5).
    for _ in range(5):
        AgentFactory(tenant=other_tenant)
    stranger_id = in_schema(other_tenant, lambda: User.objects.order_by("-pk").first().pk)
    assert not in_schema(tenant, lambda: User.objects.filter(pk=stranger_id).exists())
    admin = signed_in(tenant, team["owner"])

    for path in ("role/", "deactivate/", "reactivate/"):
        response = admin.post(f"/team/members/{stranger_id}/{path}", {"role": "admin"})
        assert response.status_code == 404
    assert admin.post("/team/members/99999999999999999999/deactivate/").status_code == 404
    assert in_schema(other_tenant, lambda: User.objects.filter(is_active=False).count()) == 0
    assert _member(other_tenant, theirs.pk).role == "agent"


def test_same_member_id_acts_only_in_the_requests_workspace(tenant, other_tenant, team):
    # Agent ids start at 2 in every workspace: id 2 is a different person in each.
    victim = AgentFactory(tenant=other_tenant)
    assert victim.pk == team["admin"].pk

    signed_in(tenant, team["owner"]).post(f"/team/members/{victim.pk}/deactivate/")

    assert _member(tenant, team["admin"].pk).is_active is False
    assert _member(other_tenant, victim.pk).is_active is True


ADMIN_PAGES = [
    ("post", "team_invite", {}),
    ("post", "member_role_change", {"member_id": 1}),
    ("post", "member_deactivate", {"member_id": 1}),
    ("post", "member_reactivate", {"member_id": 1}),
    ("post", "invitation_resend", {"invitation_id": 1}),
    ("post", "invitation_revoke", {"invitation_id": 1}),
    ("get", "workspace_settings", {}),
    ("post", "workspace_settings", {}),
    ("post", "workspace_domain_add", {}),
    ("post", "workspace_domain_remove", {"domain_id": 1}),
]
AGENT_PAGES = [
    ("get", "dashboard", {}),
    ("get", "team_list", {}),
    ("get", "profile", {}),
    ("post", "profile", {}),
    ("post", "agent_status_set", {}),
]


def test_every_app_page_sends_strangers_to_sign_in(tenant):
    stranger = Client(HTTP_HOST=host_of(tenant))

    for method, name, kwargs in ADMIN_PAGES + AGENT_PAGES:
        response = getattr(stranger, method)(reverse(name, kwargs=kwargs))

        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/login/?next="), name


def test_every_admin_page_refuses_agents(tenant, team):
    agent = signed_in(tenant, team["agent"])

    for method, name, kwargs in ADMIN_PAGES:
        response = getattr(agent, method)(reverse(name, kwargs=kwargs))

        assert response.status_code == 403, name
        assert b"You can" in response.content, name  # the 403 page, inside the app shell
        assert b'class="sidebar"' in response.content, name
    assert in_schema(tenant, lambda: User.objects.filter(is_active=False).count()) == 0
    assert in_schema(tenant, lambda: User.objects.get(pk=1).role) == "owner"
