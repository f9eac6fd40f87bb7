"""The API base classes: guards a subclass cannot skip."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from helpdesk.api.base import TenantApiView, TenantViewSet
from helpdesk.api.permissions import IsAdminRole
from tenants.agents.api import agent_list_for as agent_list
from tenants.agents.models import User
from tenants.agents.selectors import member_access
from tenants.models import Tenant
from tests.factories import AgentFactory
from tests.helpdesk.api.helpers import bearer, owner_of


class EchoActorApi(TenantApiView):
    def get(self, request):
        return Response({"actor": self.actor.pk})


class AdminOnlyApi(TenantApiView):
    permission_classes = (IsAdminRole,)

    def get(self, request):
        return Response({"ok": True})


def _request(tenant, user=None, token=None):
    request = APIRequestFactory().get("/api/v1/x/", **(bearer(token) if token else {}))
    request.tenant = tenant
    if user is not None:
        force_authenticate(request, user=user)
    return request


def _call(view, tenant, user=None, token=None):
    if not tenant.is_public:
        connection.set_tenant(tenant)
    return view(_request(tenant, user, token))


@pytest.mark.parametrize("method", ["get_queryset", "get_object"])
def test_a_viewset_cannot_override_the_guarded_reads(method):
    with pytest.raises(TypeError, match=method):
        type(
            "Sneaky",
            (TenantViewSet,),
            {
                "__module__": __name__,
                "model": User,
                "selector": agent_list,
                "access": member_access,
                "access_id_argument": "member_id",
                method: lambda self: User.objects.all(),
            },
        )


@pytest.mark.parametrize("method", ["initial", "check_permissions", "get_permissions"])
def test_a_view_cannot_override_the_tenant_and_agent_checks(method):
    with pytest.raises(TypeError, match=method):
        type("Sneaky", (TenantApiView,), {"__module__": __name__, method: lambda self, *a: []})


def test_an_override_cannot_come_in_through_a_mixin():
    class LaxMixin:
        def get_queryset(self):
            return User.objects.all()

    with pytest.raises(TypeError, match="get_queryset"):
        type(
            "Mixed",
            (LaxMixin, TenantViewSet),
            {
                "__module__": __name__,
                "model": User,
                "selector": agent_list,
                "access": member_access,
                "access_id_argument": "member_id",
            },
        )


def test_a_viewset_must_declare_its_selector_and_access():
    with pytest.raises(TypeError, match="selector, access"):
        type("Incomplete", (TenantViewSet,), {"__module__": __name__, "model": User})


def test_a_viewset_cannot_use_a_plain_queryset():
    with pytest.raises(TypeError, match="selector"):
        type(
            "WithQueryset",
            (TenantViewSet,),
            {
                "__module__": __name__,
                "queryset": User.objects.all(),
                "model": User,
                "selector": agent_list,
                "access": member_access,
                "access_id_argument": "member_id",
            },
        )


@pytest.mark.django_db
def test_declaring_allow_any_does_not_skip_the_agent_check(tenant):
    from rest_framework.permissions import AllowAny

    class OpenDoorApi(TenantApiView):
        permission_classes = (AllowAny,)

        def get(self, request):
            return Response({"leaked": True})

    response = _call(OpenDoorApi.as_view(), tenant)

    assert response.status_code == 401
    assert "leaked" not in response.data


@pytest.mark.django_db
def test_the_public_schema_is_refused_before_any_credential_is_read(tenant):
    public = Tenant.objects.get(schema_name="public")
    connection.set_schema_to_public()

    response = _call(EchoActorApi.as_view(), public, token="hd_abcdefgh_" + "x" * 43)

    assert response.status_code == 404
    assert response.data["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_a_suspended_workspace_is_refused_by_the_base_class_too(tenant):
    owner = owner_of(tenant)
    tenant.status = Tenant.Status.SUSPENDED

    response = _call(EchoActorApi.as_view(), tenant, user=owner)

    assert response.status_code == 503
    assert response.data["error"]["code"] == "workspace_suspended"


@pytest.mark.django_db
def test_the_actor_is_the_authenticated_agent(tenant):
    owner = owner_of(tenant)

    response = _call(EchoActorApi.as_view(), tenant, user=owner)

    assert response.data == {"actor": owner.pk}


@pytest.mark.django_db
def test_an_inactive_account_is_refused_even_if_authenticated(tenant):
    agent = AgentFactory(tenant=tenant, is_active=False)

    response = _call(EchoActorApi.as_view(), tenant, user=agent)

    assert response.status_code == 403
    assert response.data["error"]["code"] == "not_agent"


@pytest.mark.django_db
def test_role_permission_classes_apply_after_the_agent_check(tenant):
    agent = AgentFactory(tenant=tenant)
    admin = AgentFactory(tenant=tenant, role="admin")

    refused = _call(AdminOnlyApi.as_view(), tenant, user=agent)
    allowed = _call(AdminOnlyApi.as_view(), tenant, user=admin)

    assert refused.status_code == 403
    assert refused.data["error"]["code"] == "admin_role_required"
    assert allowed.status_code == 200


@pytest.mark.django_db
def test_get_object_goes_through_the_declared_access_function(tenant):
    """A narrower access function narrows every detail route, with the uniform 404."""
    seen = []

    def only_admins_access(*, actor, member_id):
        seen.append(member_id)
        if not actor.is_admin:
            raise User.DoesNotExist
        return member_access(actor=actor, member_id=member_id)

    class NarrowViewSet(TenantViewSet):
        model = User
        selector = agent_list
        access = only_admins_access
        access_id_argument = "member_id"

        def retrieve(self, request, pk=None):
            return Response({"id": self.get_object().pk})

    view = NarrowViewSet.as_view({"get": "retrieve"})
    agent = AgentFactory(tenant=tenant)
    owner = owner_of(tenant)

    with tenant_context(tenant):
        refused = view(_request(tenant, agent), pk=str(owner.pk))
        allowed = view(_request(tenant, owner), pk=str(agent.pk))

    assert refused.status_code == 404
    assert refused.data["error"]["code"] == "not_found"
    assert allowed.data == {"id": agent.pk}
    assert seen == [str(owner.pk), str(agent.pk)]
