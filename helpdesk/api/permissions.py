"""Who may call what. Role checks for every API view come from here and nowhere else."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework.permissions import BasePermission

# No model import at module level: DRF loads this module (a default permission class) when
# rest_framework.views is first imported, which may be before the app registry is ready.


def agent_is_usable(user: object) -> bool:
    """A signed-in, active agent account of the current workspace."""
    return isinstance(user, get_user_model()) and user.is_authenticated and user.is_active


class IsActiveAgent(BasePermission):
    """Applied by TenantApiView to every request, before any permission a view declares."""

    message = "Sign in as an active agent of this workspace."
    code = "not_authenticated"

    def has_permission(self, request, view) -> bool:
        return agent_is_usable(request.user)


class IsAdminRole(BasePermission):
    """Owner or admin: manages the team and the workspace."""

    message = "Only the workspace's owner and admins can do this."
    code = "admin_role_required"

    def has_permission(self, request, view) -> bool:
        return agent_is_usable(request.user) and request.user.is_admin


class IsOwnerRole(BasePermission):
    message = "Only the workspace's owner can do this."
    code = "owner_role_required"

    def has_permission(self, request, view) -> bool:
        return agent_is_usable(request.user) and request.user.role == get_user_model().Role.OWNER
