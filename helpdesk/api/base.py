"""The classes every API view inherits. They make the tenant and role checks impossible to skip.

- The request must come to a workspace host (never the public site) whose workspace is active.
- The caller must be an active agent of that workspace; the agent is resolved once, as
  `self.actor`, before the view's own `permission_classes` (role checks) run.
- A TenantViewSet reads through functions it declares: `selector(*, actor)` for its queryset and
  `access(*, actor, <thing>_id)` for one object, which raises the same not-found for "missing"
  and "not yours". `get_queryset` and `get_object` always go through them.

Subclasses declare; they don't override the guarded methods, directly or through a mixin.
Trying to is a TypeError at import time, so a bypass can't slip in unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from django.db.models import Model, QuerySet
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from helpdesk.api.errors import NOT_FOUND_MESSAGE, WorkspaceUnavailable
from helpdesk.api.permissions import IsActiveAgent, agent_is_usable
from tenants.agents.models import User
from tenants.connection import connection

_M = TypeVar("_M", bound=Model)

_GUARDED_VIEW_METHODS = (
    "initial",
    "check_permissions",
    "get_permissions",
    "get_authenticators",
    "permission_denied",
)
_GUARDED_VIEWSET_METHODS = ("get_queryset", "get_object")
_VIEWSET_DECLARATIONS = ("model", "selector", "access", "access_id_argument")


def _refuse_overrides(cls: type, guard: type, names: tuple[str, ...]) -> None:
    # Compared through the MRO, so an override can't come in by way of a mixin either.
    for name in names:
        if getattr(cls, name) is not getattr(guard, name):
            raise TypeError(
                f"{cls.__qualname__}.{name} overrides a guarded method of the API base class. "
                "Declare permission_classes, selector and access instead."
            )


class TenantApiView(APIView):
    """Base of every workspace API view."""

    # Role checks a view adds (e.g. IsAdminRole); IsActiveAgent always runs before them.
    permission_classes: Sequence[type[BasePermission]] = ()
    actor: User

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__ != __name__:
            _refuse_overrides(cls, TenantApiView, _GUARDED_VIEW_METHODS)

    def initial(self, request, *args, **kwargs) -> None:
        # Before authentication: the public site and a suspended workspace never look at a
        # credential, and a pooled connection left in another schema is never trusted.
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.is_public:
            raise exceptions.NotFound(NOT_FOUND_MESSAGE)
        if tenant.is_suspended:
            raise WorkspaceUnavailable()
        if connection.schema_name != tenant.schema_name:
            raise RuntimeError("API request served outside its workspace's schema")
        super().initial(request, *args, **kwargs)

    def get_permissions(self) -> list:
        return [IsActiveAgent(), *(permission() for permission in self.permission_classes)]

    def check_permissions(self, request) -> None:
        if not agent_is_usable(request.user):
            self.permission_denied(request, message=IsActiveAgent.message, code="not_agent")
        self.actor = request.user
        super().check_permissions(request)


class TenantViewSet(TenantApiView, GenericViewSet[_M]):
    """A viewset whose every read goes through the selector and access function it declares.

    class AgentViewSet(TenantViewSet[User]):
        model = User
        selector = agent_list_for        # (*, actor) -> QuerySet
        access = member_access           # (*, actor, member_id) -> User
        access_id_argument = "member_id"
    """

    # Class-level declarations; not ClassVar only because a ClassVar can't use the model's type.
    model: type[_M]
    selector: Callable[..., QuerySet[_M]]
    access: Callable[..., _M]
    access_id_argument: ClassVar[str]
    # Ids are bigints; anything else is an unknown URL, never a database error.
    lookup_value_regex = r"[0-9]{1,18}"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__ == __name__:
            return
        _refuse_overrides(cls, TenantViewSet, _GUARDED_VIEWSET_METHODS)
        if cls.__dict__.get("queryset") is not None:
            raise TypeError(f"{cls.__qualname__}: declare a selector instead of a queryset.")
        missing = [name for name in _VIEWSET_DECLARATIONS if not hasattr(cls, name)]
        if missing:
            raise TypeError(f"{cls.__qualname__} must declare {', '.join(missing)}.")
        # Plain functions assigned on the class would otherwise be bound as methods.
        for name in ("selector", "access"):
            value = cls.__dict__.get(name)
            if value is not None and not isinstance(value, staticmethod):
                setattr(cls, name, staticmethod(value))

    def get_queryset(self) -> QuerySet[_M]:
        if getattr(self, "swagger_fake_view", False):
            # Schema generation: no request, no actor; the model is all it needs.
            return self.model._default_manager.none()
        return type(self).selector(actor=self.actor)

    def get_object(self) -> _M:
        thing_id = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        obj = type(self).access(actor=self.actor, **{self.access_id_argument: thing_id})
        self.check_object_permissions(self.request, obj)
        return obj
