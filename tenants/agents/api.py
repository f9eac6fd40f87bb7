"""API for the signed-in agent (/api/v1/me/) and the workspace's agents (/api/v1/agents/)."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from helpdesk.api.base import TenantApiView, TenantViewSet
from helpdesk.api.permissions import IsAdminRole
from tenants.agents.models import User
from tenants.agents.selectors import member_access, member_list
from tenants.agents.services.accounts import agent_profile_update, timezone_validate
from tenants.agents.services.members import agent_deactivate


def agent_list_for(*, actor: User) -> QuerySet[User]:
    """Every agent of a workspace sees the same team list (the team page's order)."""
    return member_list()


# ---- Serializers ----------------------------------------------------------------------------


class AgentSerializer(serializers.ModelSerializer):
    """What any agent of the workspace may see about a colleague. No credentials, no staff flags."""

    avatar_url = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "role",
            "status",
            "language",
            "timezone",
            "avatar_url",
            "is_active",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_avatar_url(self, agent: User) -> str | None:
        if not agent.avatar:
            return None
        request = self.context.get("request")
        url = agent.avatar.url
        return request.build_absolute_uri(url) if request is not None else url


class MeSerializer(AgentSerializer):
    """The agent the request is authenticated as."""


class MeUpdateSerializer(serializers.Serializer):
    """The fields an agent may change about themselves. Anything else sent is refused."""

    name = serializers.CharField(max_length=User._meta.get_field("name").max_length)
    language = serializers.ChoiceField(choices=settings.LANGUAGES)
    timezone = serializers.CharField(max_length=64, help_text="An IANA name, e.g. Europe/Paris.")
    status = serializers.ChoiceField(choices=User.Status.choices)

    def validate_name(self, value: str) -> str:
        if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
            raise serializers.ValidationError(
                "The name cannot contain control characters.", code="invalid"
            )
        return value

    def validate_timezone(self, value: str) -> str:
        try:
            timezone_validate(value)
        except DjangoValidationError:
            raise serializers.ValidationError(
                "Unknown timezone. Use an IANA name such as Europe/Paris.", code="invalid_choice"
            ) from None
        return value

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be changed here."] for name in unknown},
                code="read_only",
            )
        return attrs


AGENT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Agent id.")

# ---- Views --------------------------------------------------------------------------------


@extend_schema(tags=["me"])
class AgentMeApi(TenantApiView):
    """The agent the request is authenticated as."""

    @extend_schema(operation_id="me_retrieve", responses=MeSerializer)
    def get(self, request):
        """The agent the request is authenticated as (the token's or the session's owner)."""
        return Response(MeSerializer(self.actor, context={"request": request}).data)

    @extend_schema(
        operation_id="me_partial_update",
        request=MeUpdateSerializer(partial=True),
        responses=MeSerializer,
    )
    def patch(self, request):
        """Change your own name, language, timezone or presence status. Send only what
        changes; any other field (role, email...) is refused with a 400."""
        form = MeUpdateSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        agent = agent_profile_update(agent=self.actor, **form.validated_data)
        return Response(MeSerializer(agent, context={"request": request}).data)


@extend_schema(tags=["agents"])
class AgentViewSet(TenantViewSet[User]):
    """The workspace's agents. Any agent may list them; changing them takes an admin."""

    model = User
    selector = agent_list_for
    access = member_access
    access_id_argument = "member_id"
    serializer_class = AgentSerializer

    @extend_schema(operation_id="agents_list")
    def list(self, request):
        """Every account of the workspace: owner, admins, then agents, by name; deactivated
        accounts last. Any agent may list."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(operation_id="agents_retrieve", parameters=[AGENT_ID])
    def retrieve(self, request, pk=None):
        """One agent of the workspace."""
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        operation_id="agents_deactivate",
        parameters=[AGENT_ID],
        request=None,
        responses=AgentSerializer,
    )
    @action(detail=True, methods=["post"], permission_classes=(IsAdminRole,))
    def deactivate(self, request, pk=None):
        """Sign the agent out everywhere and stop their API tokens. Owner and admins only; the
        owner can't be deactivated, nor can you deactivate yourself (403)."""
        agent = agent_deactivate(actor=self.actor, agent=self.get_object())
        return Response(self.get_serializer(agent).data)
