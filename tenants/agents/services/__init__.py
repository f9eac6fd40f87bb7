"""Writes on agents. Views, API views, commands and tasks call these; nothing else creates or
changes an account."""

from tenants.agents.services.accounts import (
    agent_create_owner,
    agent_profile_update,
    agent_status_set,
)
from tenants.agents.services.invitations import (
    invitation_accept,
    invitation_create,
    invitation_resend,
    invitation_revoke,
)
from tenants.agents.services.members import (
    agent_deactivate,
    agent_reactivate,
    agent_role_change,
    agent_sessions_end,
)

__all__ = [
    "agent_create_owner",
    "agent_deactivate",
    "agent_profile_update",
    "agent_reactivate",
    "agent_role_change",
    "agent_sessions_end",
    "agent_status_set",
    "invitation_accept",
    "invitation_create",
    "invitation_resend",
    "invitation_revoke",
]
