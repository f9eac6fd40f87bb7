"""The request an agent-app view receives once `agent_required` has let it through.

django-stubs types `request.user` as "a user or AnonymousUser". Behind agent_required the user
is a signed-in agent of this workspace, so views annotate their request with AgentRequest and
pass `request.user` to services as the actor without re-checking. The decorator is the one
place that vouches for it.
"""

from __future__ import annotations

from tenants.agents.models import User
from tenants.http import TenantRequest


class AgentRequest(TenantRequest):
    user: User
