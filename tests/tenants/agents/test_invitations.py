"""Inviting agents: the email, the single-use expiring link, and who may send one."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.sessions.models import Session
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.agents.models import Invitation, User
from tenants.agents.selectors import token_hash
from tests.factories import AgentFactory
from tests.tenants.agents.clients import (
    client_for,
    in_schema,
    owner_of,
    sign_in,
    signed_in,
)

pytestmark = pytest.mark.django_db

PASSWORD = "invitee-pass-Narwhal-58"


def _invite(client, capture, email="new.agent@example.com", role="agent"):
    with capture(execute=True):
        return client.post("/team/invite/", {"email": email, "role": role})


def _accept(client, path, capture, name="Nina New", password=PASSWORD, password2=None):
    with capture(execute=True):
        return client.post(
            path, {"name": name, "password1": password, "password2": password2 or password}
        )


def _invitations(tenant):
    return in_schema(tenant, lambda: list(Invitation.objects.all()))


def test_invite_by_smtp_then_accept_signs_the_agent_in(
    tenant, smtp_sink, django_capture_on_commit_callbacks
):
    admin = signed_in(tenant, owner_of(tenant))

    response = _invite(admin, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    (message,) = smtp_sink.to("new.agent@example.com")
    assert message["Subject"] == "Olivia Owner invited you to Acme"
    (link,) = [u for u in smtp_sink.links(message) if "/invite/" in u]
    assert link.startswith("http://acme.localhost/invite/")
    token = urlsplit(link).path.split("/")[2]
    (stored,) = _invitations(tenant)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(in_schema(tenant, lambda: list(Invitation.objects.values())))
    assert stored.expires_at - stored.created_at == timedelta(days=7)

    invitee = client_for(tenant)
    page = invitee.get(urlsplit(link).path)
    assert page.status_code == 200
    assert b"new.agent@example.com" in page.content
    joined = _accept(invitee, urlsplit(link).path, django_capture_on_commit_callbacks)

    assert joined.status_code == 302 and joined["Location"] == "/"
    home = invitee.get("/")
    assert home.status_code == 200 and b"Welcome, Nina" in home.content
    with tenant_context(tenant):
        user = User.objects.get(email="new.agent@example.com")
        assert user.role == User.Role.AGENT and user.name == "Nina New"
        assert user.check_password(PASSWORD)
        assert EmailAddress.objects.get(user=user).verified
        assert Invitation.objects.get().accepted_by == user
    # The agent can sign in with the password they chose.
    assert sign_in(client_for(tenant), "new.agent@example.com", PASSWORD).status_code == 302


def test_invitation_link_works_once(tenant, django_capture_on_commit_callbacks):
    _invite(signed_in(tenant, owner_of(tenant)), django_capture_on_commit_callbacks)
    path = urlsplit(mail.outbox[0].body.split("http://acme.localhost")[1].split()[0]).path
    _accept(client_for(tenant), "/" + path.lstrip("/"), django_capture_on_commit_callbacks)

    second = client_for(tenant)
    page = second.get(path)
    replay = _accept(second, path, django_capture_on_commit_callbacks, name="Mallory")

    assert page.status_code == 410 and b"already used" in page.content
    assert replay.status_code == 410
    assert in_schema(tenant, lambda: User.objects.filter(name="Mallory").exists()) is False
    assert in_schema(tenant, lambda: User.objects.count()) == 2


def _issue(tenant, **fields):
    """An invitation stored directly, with a known token."""
    token = f"test-token-{fields.pop('suffix', 'x')}"
    defaults = {
        "email": "invitee@example.com",
        "role": "agent",
        "token_hash": token_hash(token),
        "expires_at": timezone.now() + timedelta(days=7),
    }
    defaults.update(fields)
    in_schema(tenant, lambda: Invitation.objects.create(**defaults))
    return f"/invite/{token}/"


@pytest.mark.parametrize(
    ("fields", "status", "text"),
    [
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, 410, b"has expired"),
        ({"revoked_at": timezone.now()}, 410, b"was withdrawn"),
        ({"accepted_at": timezone.now()}, 410, b"already used"),
    ],
)
def test_unusable_invitation_gets_a_clear_page_and_creates_nothing(
    tenant, fields, status, text, django_capture_on_commit_callbacks
):
    path = _issue(tenant, **fields)
    client = client_for(tenant)

    page = client.get(path)
    post = _accept(client, path, django_capture_on_commit_callbacks)

    assert page.status_code == status and text in page.content
    assert post.status_code == status
    assert in_schema(tenant, lambda: User.objects.filter(email="invitee@example.com").exists()) is (
        False
    )


def test_unknown_token_gets_a_clear_404(tenant):
    page = client_for(tenant).get("/invite/not-a-real-token/")

    assert page.status_code == 404
    assert b"isn&#x27;t valid" in page.content or b"isn't valid" in page.content


def test_invitation_token_of_one_workspace_is_unknown_on_another(
    tenant, other_tenant, django_capture_on_commit_callbacks
):
    path = _issue(tenant)
    stranger = client_for(other_tenant)

    page = stranger.get(path)
    post = _accept(stranger, path, django_capture_on_commit_callbacks)

    assert page.status_code == 404 and post.status_code == 404
    assert in_schema(other_tenant, lambda: User.objects.count()) == 1
    assert in_schema(tenant, lambda: Invitation.objects.get().accepted_at) is None


def test_weak_or_mismatched_password_keeps_the_invitation_open(
    tenant, django_capture_on_commit_callbacks
):
    path = _issue(tenant)
    client = client_for(tenant)

    weak = _accept(client, path, django_capture_on_commit_callbacks, password="12345678")
    mismatch = _accept(
        client, path, django_capture_on_commit_callbacks, password2="something-Else-9901"
    )
    blank_name = _accept(client, path, django_capture_on_commit_callbacks, name="   ")

    assert weak.status_code == 400 and b"too short" in weak.content
    assert mismatch.status_code == 400 and b"match" in mismatch.content
    assert blank_name.status_code == 400
    assert in_schema(tenant, lambda: User.objects.count()) == 1
    assert in_schema(tenant, lambda: Invitation.objects.get().accepted_at) is None
    assert in_schema(tenant, lambda: Session.objects.count()) == 0


def test_name_with_markup_is_stored_as_text_and_shown_inert(
    tenant, django_capture_on_commit_callbacks
):
    path = _issue(tenant)
    _accept(
        client_for(tenant),
        path,
        django_capture_on_commit_callbacks,
        name="<img src=x onerror=alert(1)>",
    )

    page = signed_in(tenant, owner_of(tenant)).get("/team/")

    assert b"<img src=x onerror" not in page.content
    assert b"&lt;img src=x onerror=alert(1)&gt;" in page.content


def test_name_with_line_breaks_is_refused(tenant, django_capture_on_commit_callbacks):
    path = _issue(tenant)

    response = _accept(
        client_for(tenant), path, django_capture_on_commit_callbacks, name="Eve\x0bBcc: x"
    )

    assert response.status_code == 400
    assert in_schema(tenant, lambda: User.objects.count()) == 1


def test_inviting_a_member_is_a_form_error(tenant, django_capture_on_commit_callbacks):
    AgentFactory(tenant=tenant, email="already@acme.example")
    admin = signed_in(tenant, owner_of(tenant))

    member = _invite(admin, django_capture_on_commit_callbacks, email="Already@Acme.example")
    owner = _invite(admin, django_capture_on_commit_callbacks, email="owner@acme.example")

    assert member.status_code == 400
    assert b"already@acme.example is already a member" in member.content
    assert owner.status_code == 400
    assert _invitations(tenant) == []
    assert mail.outbox == []


def test_inviting_someone_already_invited_is_a_form_error(
    tenant, django_capture_on_commit_callbacks
):
    admin = signed_in(tenant, owner_of(tenant))
    _invite(admin, django_capture_on_commit_callbacks)

    again = _invite(admin, django_capture_on_commit_callbacks)

    assert again.status_code == 400 and b"already invited" in again.content
    assert len(_invitations(tenant)) == 1
    assert len(mail.outbox) == 1


def test_bad_email_is_a_form_error(tenant, django_capture_on_commit_callbacks):
    admin = signed_in(tenant, owner_of(tenant))

    response = _invite(admin, django_capture_on_commit_callbacks, email="x@y.com\r\nBcc: z@w.com")

    assert response.status_code == 400
    assert _invitations(tenant) == []


def test_agent_cannot_invite(tenant, django_capture_on_commit_callbacks):
    agent = AgentFactory(tenant=tenant)

    response = _invite(signed_in(tenant, agent), django_capture_on_commit_callbacks)

    assert response.status_code == 403
    assert b"Only the owner and admins" in response.content
    assert _invitations(tenant) == []
    assert mail.outbox == []


def test_admin_invites_agents_but_only_the_owner_invites_admins(
    tenant, django_capture_on_commit_callbacks
):
    admin = signed_in(tenant, AgentFactory(tenant=tenant, role="admin"))
    owner = signed_in(tenant, owner_of(tenant))

    refused = _invite(
        admin, django_capture_on_commit_callbacks, email="a@example.com", role="admin"
    )
    as_owner = _invite(
        admin, django_capture_on_commit_callbacks, email="b@example.com", role="owner"
    )
    agent = _invite(admin, django_capture_on_commit_callbacks, email="c@example.com", role="agent")
    by_owner = _invite(
        owner, django_capture_on_commit_callbacks, email="d@example.com", role="admin"
    )

    assert refused.status_code == 400 and as_owner.status_code == 400
    assert agent.status_code == 302 and by_owner.status_code == 302
    assert sorted((i.email, i.role) for i in _invitations(tenant)) == [
        ("c@example.com", "agent"),
        ("d@example.com", "admin"),
    ]


def test_invitee_joins_with_the_role_they_were_invited_as(
    tenant, django_capture_on_commit_callbacks
):
    path = _issue(tenant, role="admin")

    _accept(client_for(tenant), path, django_capture_on_commit_callbacks)

    assert in_schema(tenant, lambda: User.objects.get(email="invitee@example.com").role) == "admin"


def test_resend_issues_a_new_link_and_kills_the_old_one(
    tenant, smtp_sink, django_capture_on_commit_callbacks
):
    admin = signed_in(tenant, owner_of(tenant))
    _invite(admin, django_capture_on_commit_callbacks)
    (invitation,) = _invitations(tenant)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/team/invitations/{invitation.pk}/resend/")

    assert response.status_code == 302
    first, second = smtp_sink.to("new.agent@example.com")
    old_path = urlsplit(smtp_sink.links(first)[0]).path
    new_path = urlsplit(smtp_sink.links(second)[0]).path
    assert old_path != new_path
    assert client_for(tenant).get(old_path).status_code == 404
    assert client_for(tenant).get(new_path).status_code == 200


def test_revoked_invitation_link_stops_working(tenant, django_capture_on_commit_callbacks):
    admin = signed_in(tenant, owner_of(tenant))
    _invite(admin, django_capture_on_commit_callbacks)
    (invitation,) = _invitations(tenant)
    path = "/invite/" + mail.outbox[0].body.split("/invite/")[1].split("/")[0] + "/"

    response = admin.post(f"/team/invitations/{invitation.pk}/revoke/")

    assert response.status_code == 302
    page = client_for(tenant).get(path)
    assert page.status_code == 410 and b"withdrawn" in page.content


def test_agent_cannot_resend_or_revoke(tenant, django_capture_on_commit_callbacks):
    _issue(tenant)
    (invitation,) = _invitations(tenant)
    agent = signed_in(tenant, AgentFactory(tenant=tenant))

    resend = agent.post(f"/team/invitations/{invitation.pk}/resend/")
    revoke = agent.post(f"/team/invitations/{invitation.pk}/revoke/")

    assert resend.status_code == revoke.status_code == 403
    (after,) = _invitations(tenant)
    assert after.token_hash == invitation.token_hash and after.revoked_at is None


def test_invitation_ids_of_another_workspace_are_not_found(
    tenant, other_tenant, django_capture_on_commit_callbacks
):
    _issue(other_tenant)
    (theirs,) = _invitations(other_tenant)
    admin = signed_in(tenant, owner_of(tenant))

    resend = admin.post(f"/team/invitations/{theirs.pk}/resend/")
    revoke = admin.post(f"/team/invitations/{theirs.pk}/revoke/")
    missing = admin.post("/team/invitations/999999/revoke/")

    assert resend.status_code == revoke.status_code == missing.status_code == 404
    (after,) = _invitations(other_tenant)
    assert after.revoked_at is None and after.token_hash == theirs.token_hash
    assert mail.outbox == []
