"""Writes an admin makes on other members: role, deactivation, reactivation."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from tenants.agents.models import User
from tenants.agents.permissions import member_active_change_check, member_role_change_check


def agent_role_change(*, actor: User, agent: User, role: str) -> User:
    member_role_change_check(actor=actor, member=agent, role=role)
    if agent.role != role:
        agent.role = role
        agent.save(update_fields=["role"])
    return agent


def agent_sessions_end(*, agent: User) -> int:
    """Delete every stored session of `agent` in this workspace; returns how many.

    Sessions are database rows in the workspace's schema and do not record their user in a
    column, so each live one is decoded. A workspace has at most a few thousand live sessions,
    and this only runs when someone is deactivated.
    """
    ended = []
    live = Session.objects.filter(expire_date__gt=timezone.now()).only("session_key")
    for session in live.iterator(chunk_size=500):
        if session.get_decoded().get("_auth_user_id") == str(agent.pk):
            ended.append(session.session_key)
    Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


def agent_deactivate(*, actor: User, agent: User) -> User:
    """Sign the agent out everywhere, now. They keep their history but cannot sign in again.

    is_active=False alone already makes Django drop the session on the agent's next request and
    refuses their API tokens; deleting the sessions also ends anything that reads a session
    without loading the user first.
    """
    member_active_change_check(actor=actor, member=agent)
    with transaction.atomic():
        agent = User.objects.select_for_update().get(pk=agent.pk)
        if agent.is_active:
            agent.is_active = False
            agent.deactivated_at = timezone.now()
            agent.status = User.Status.OFFLINE
            agent.save(update_fields=["is_active", "deactivated_at", "status"])
        agent_sessions_end(agent=agent)
        # Open WebSockets authenticated before now would outlive the sessions; close them too.
        # Imported here: the realtime services import this package for agent_status_set.
        from helpdesk.realtime.services import agent_sockets_close

        agent_sockets_close(agent_id=agent.pk)
    return agent


def agent_reactivate(*, actor: User, agent: User) -> User:
    member_active_change_check(actor=actor, member=agent)
    if not agent.is_active:
        agent.is_active = True
        agent.deactivated_at = None
        agent.save(update_fields=["is_active", "deactivated_at"])
    return agent
