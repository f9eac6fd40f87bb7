"""API for conversations: /api/v1/conversations/ (the inbox list), one conversation with its
customer panel, and the agent actions on it (status, assignee, read position)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from chat.api.shapes import ConversationBriefSerializer, ConversationSummarySerializer
from chat.models import Conversation
from chat.payloads import conversation_summary
from chat.selectors.conversations import (
    INBOX_STATUSES,
    INBOX_VIEWS,
    InboxFilter,
    contact_conversations,
    conversation_access,
    conversation_list_for_agent,
    inbox_counts,
)
from chat.services.conversations import (
    conversation_assign,
    conversation_read_by_agent,
    conversation_status_change,
)
from helpdesk.api.base import TenantViewSet
from helpdesk.contacts.api import ContactSerializer, contact_payload
from helpdesk.object_ids import PK_MAX
from tenants.agents.models import User

PREVIOUS_CONVERSATIONS_MAX = 10


def conversation_list_all(*, actor: User) -> QuerySet[Conversation]:
    """Every conversation of the workspace, newest activity first (the viewset's base reads)."""
    return conversation_list_for_agent(actor=actor, filters=InboxFilter(status="any"))


# ---- Request shapes -----------------------------------------------------------------------


class ConversationListQuery(serializers.Serializer):
    view = serializers.ChoiceField(
        choices=INBOX_VIEWS,
        default="all",
        help_text="mine: assigned to you; unassigned: to nobody; all: everyone's.",
    )
    status = serializers.ChoiceField(choices=INBOX_STATUSES, default="open")
    contact = serializers.IntegerField(
        required=False, min_value=1, max_value=PK_MAX, help_text="Only this contact's."
    )


class ConversationCountsQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=INBOX_STATUSES, default="open")


class AwareDateTimeField(serializers.DateTimeField):
    """A time with its UTC offset. A bare local time would be read in the server's time zone,
    which is rarely what the caller meant, so it is refused instead."""

    def enforce_timezone(self, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise serializers.ValidationError(
                "Give the time with its UTC offset, e.g. 2026-03-01T09:00:00+01:00.",
                code="naive_time",
            )
        # UTC, as every time the API returns, whichever time zone the agent's request activated.
        return value.astimezone(UTC)


class ConversationUpdateSerializer(serializers.Serializer):
    """Change the status and/or the assignee. Fields not listed here are ignored."""

    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    snoozed_until = AwareDateTimeField(
        required=False,
        help_text="With status snoozed (required then): when it reopens, at most 90 days ahead.",
    )
    assignee_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=PK_MAX,
        help_text="An active agent of the workspace, or null for nobody.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "status" not in attrs and "assignee_id" not in attrs:
            raise serializers.ValidationError("Send a status, an assignee_id or both.")
        if "snoozed_until" in attrs and attrs.get("status") != Conversation.Status.SNOOZED:
            raise serializers.ValidationError(
                {"snoozed_until": ["Only goes with status snoozed."]}, code="invalid"
            )
        return attrs


class ConversationReadSerializer(serializers.Serializer):
    seq = serializers.IntegerField(
        min_value=0, max_value=PK_MAX, help_text="The newest message seq the agent has seen."
    )


# ---- Response shapes ----------------------------------------------------------------------


class ConversationCountsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=INBOX_STATUSES)
    mine = serializers.IntegerField()
    unassigned = serializers.IntegerField()
    all = serializers.IntegerField()


class ConversationDetailSerializer(ConversationSummarySerializer):
    """The summary, with the contact in full, how the chat started and the contact's history."""

    # The full contact is a superset of the summary's brief one (same id, name, email, verified).
    contact = ContactSerializer()  # type: ignore[assignment]
    started_context = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Pre-chat answers ({'fields': {...}}) and the page the chat started on.",
    )
    previous_conversations = ConversationBriefSerializer(
        many=True,
        help_text=f"The contact's other conversations, newest first, at most "
        f"{PREVIOUS_CONVERSATIONS_MAX}.",
    )

    def to_representation(self, instance: Conversation) -> dict[str, Any]:
        previous = contact_conversations(contact_id=instance.contact_id, exclude_id=instance.pk)
        return {
            **conversation_summary(instance),
            "contact": contact_payload(instance.contact),
            "started_context": instance.started_context,
            "previous_conversations": ConversationBriefSerializer(
                previous[:PREVIOUS_CONVERSATIONS_MAX], many=True
            ).data,
        }


CONVERSATION_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Conversation id."
)

# ---- Views --------------------------------------------------------------------------------


@extend_schema(tags=["conversations"])
class ConversationViewSet(TenantViewSet[Conversation]):
    """The workspace's conversations. Every active agent sees and acts on all of them, as in
    the inbox."""

    model = Conversation
    selector = conversation_list_all
    access = conversation_access
    access_id_argument = "conversation_id"
    serializer_class = ConversationSummarySerializer

    @extend_schema(operation_id="conversations_list", parameters=[ConversationListQuery])
    def list(self, request):
        """The inbox list, newest activity first. Unknown filter values are a 400."""
        query = ConversationListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = InboxFilter(
            view=query.validated_data["view"],
            status=query.validated_data["status"],
            contact_id=query.validated_data.get("contact"),
        )
        page = self.paginate_queryset(
            conversation_list_for_agent(actor=self.actor, filters=filters)
        )
        return self.get_paginated_response(ConversationSummarySerializer(page, many=True).data)

    @extend_schema(
        operation_id="conversations_counts",
        parameters=[ConversationCountsQuery],
        responses=ConversationCountsSerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def counts(self, request):
        """How many conversations of a status each inbox view holds (the inbox's badges)."""
        query = ConversationCountsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        status = query.validated_data["status"]
        counts = inbox_counts(actor=self.actor, status=status)
        return Response(
            {
                "status": status,
                "mine": counts.mine,
                "unassigned": counts.unassigned,
                "all": counts.all,
            }
        )

    @extend_schema(
        operation_id="conversations_retrieve",
        parameters=[CONVERSATION_ID],
        responses=ConversationDetailSerializer,
    )
    def retrieve(self, request, pk=None):
        """One conversation with what the inbox's customer panel shows."""
        return Response(ConversationDetailSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="conversations_partial_update",
        parameters=[CONVERSATION_ID],
        request=ConversationUpdateSerializer,
        responses=ConversationSummarySerializer,
    )
    def partial_update(self, request, pk=None):
        """Resolve, reopen, mark pending or snooze (`snoozed_until` with its UTC offset), and/or
        assign to an agent (`assignee_id`, null for nobody). Both apply or neither does; agents'
        sockets and the visitor hear about the change."""
        conversation = self.get_object()
        form = ConversationUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        changes = form.validated_data
        # One transaction: a refused assignee leaves an accepted status change undone too, and
        # the broadcasts wait for the commit.
        with transaction.atomic():
            if "status" in changes:
                conversation = conversation_status_change(
                    conversation=conversation,
                    status=changes["status"],
                    snoozed_until=changes.get("snoozed_until"),
                    actor=self.actor,
                )
            if "assignee_id" in changes:
                conversation = conversation_assign(
                    conversation=conversation, assignee_id=changes["assignee_id"], actor=self.actor
                )
        return Response(conversation_summary(conversation))

    @extend_schema(
        operation_id="conversations_read",
        parameters=[CONVERSATION_ID],
        request=ConversationReadSerializer,
        responses=ConversationSummarySerializer,
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """The team has seen the conversation up to `seq`: the unread count drops and the
        visitor sees a read receipt. A position never moves back."""
        conversation = self.get_object()
        form = ConversationReadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        conversation = conversation_read_by_agent(
            conversation=conversation, seq=form.validated_data["seq"]
        )
        return Response(conversation_summary(conversation))
