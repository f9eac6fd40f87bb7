"""Writes made from, or aimed at, agent sockets. Each runs in the tenant's schema."""

from __future__ import annotations

from django.db import transaction

from helpdesk.realtime.groups import agent_group, agents_group, broadcast_on_commit
from tenants.agents.models import User
from tenants.agents.services import agent_status_set
from tenants.connection import connection


def agent_status_change(*, agent_id: int, status: str) -> User:
    """An agent sets their status; every agent socket of the workspace hears it after commit.

    Raises User.DoesNotExist when the agent is gone or deactivated, ValidationError for a bad
    status; nothing is stored or sent in either case.
    """
    with transaction.atomic():
        agent = User.objects.select_for_update().get(pk=agent_id, is_active=True)
        agent = agent_status_set(agent=agent, status=status)
        broadcast_on_commit(
            group=agents_group(connection.schema_name),
            event={
                "type": "agent.status",
                "agent": {"id": agent.pk, "name": agent.name, "status": agent.status},
            },
        )
    return agent


def agent_sockets_close(*, agent_id: int) -> None:
    """Close every open socket of this agent in this workspace, after commit.

    For deactivation: ending the agent's sessions stops new sockets, this ends the open ones.
    """
    broadcast_on_commit(
        group=agent_group(connection.schema_name, agent_id),
        event={"type": "agent.sockets_close"},
    )
