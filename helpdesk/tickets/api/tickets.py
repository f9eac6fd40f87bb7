"""API for tickets: /api/v1/tickets/ (the inbox list), one ticket with its conversations, the
agent's edits (status, priority, assignee, tags, subject), merging two tickets, and the tags in
use."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from chat.api.conversations import AwareDateTimeField
from chat.models import Conversation
from helpdesk.api.base import TenantViewSet
from helpdesk.object_ids import PK_MAX
from helpdesk.tickets.api.paging import CURSOR_MAX_CHARS, keyset_page
from helpdesk.tickets.api.shapes import (
    TicketDetailSerializer,
    TicketPageSerializer,
    TicketSummarySerializer,
    TicketTagsSerializer,
    ticket_detail_payload,
)
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.payloads import ticket_summary
from helpdesk.tickets.selectors import (
    TICKET_SORTS,
    TICKET_STATUS_FILTERS,
    TICKET_VIEWS,
    TicketFilter,
    ticket_access,
    ticket_list_for_agent,
    ticket_tags_in_use,
)
from helpdesk.tickets.services.fields import (
    TAG_MAX_CHARS,
    TAGS_MAX,
    tags_clean,
    ticket_assign,
    ticket_priority_set,
    ticket_subject_set,
    ticket_tags_set,
)
from helpdesk.tickets.services.merge import ticket_merge
from helpdesk.tickets.services.opening import SUBJECT_MAX
from helpdesk.tickets.services.status import ticket_status_change
from tenants.agents.models import User

TICKETS_PAGE_DEFAULT = 50
TICKETS_PAGE_MAX = 200
SEARCH_MAX_CHARS = 200
NO_ASSIGNEE = "none"


def ticket_list_all(*, actor: User) -> QuerySet[Ticket]:
    """Every ticket of the workspace, merged ones included (the viewset's base reads)."""
    return ticket_list_for_agent(
        actor=actor, filters=TicketFilter(status="any", include_merged=True)
    )


# ---- Request shapes -----------------------------------------------------------------------


class TicketListQuery(serializers.Serializer):
    view = serializers.ChoiceField(
        choices=TICKET_VIEWS,
        default="all",
        help_text="mine: assigned to you; unassigned: to nobody; all: everyone's.",
    )
    status = serializers.ChoiceField(
        choices=TICKET_STATUS_FILTERS,
        default="active",
        help_text="active: new, open, pending or on hold (what needs work); any: every status.",
    )
    channel = serializers.ChoiceField(
        choices=Conversation.Channel.values,
        required=False,
        help_text="Tickets with a conversation on this channel.",
    )
    assignee = serializers.CharField(
        required=False,
        max_length=20,
        help_text=f"An agent's id, or `{NO_ASSIGNEE}` for unassigned tickets.",
    )
    tag = serializers.CharField(
        required=False, max_length=TAG_MAX_CHARS, help_text="Tickets carrying this tag."
    )
    priority = serializers.ChoiceField(choices=Ticket.Priority.values, required=False)
    requester = serializers.IntegerField(
        required=False, min_value=1, max_value=PK_MAX, help_text="A contact's id."
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=SEARCH_MAX_CHARS,
        help_text="Part of the subject, a ticket number (#1001 or 1001) or the requester's "
        "exact email address.",
    )
    sort = serializers.ChoiceField(choices=TICKET_SORTS, default="-last_activity_at")
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=TICKETS_PAGE_MAX,
        default=TICKETS_PAGE_DEFAULT,
        help_text=f"At most {TICKETS_PAGE_MAX}.",
    )
    cursor = serializers.CharField(
        required=False,
        max_length=CURSOR_MAX_CHARS,
        help_text="From the previous page's `next` link; follow that link as given.",
    )

    def validate_assignee(self, value: str) -> str | int:
        value = value.strip().lower()
        if value == NO_ASSIGNEE:
            return value
        if value.isascii() and value.isdigit() and 0 < int(value) <= PK_MAX:
            return int(value)
        raise serializers.ValidationError(f"An agent's id, or “{NO_ASSIGNEE}”.")

    def validate_tag(self, value: str) -> str:
        try:
            cleaned = tags_clean([value])
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0]) from None
        if not cleaned:
            raise serializers.ValidationError("Give a tag.")
        return cleaned[0]


class TicketUpdateSerializer(serializers.Serializer):
    """The fields to change; each is checked by its own rule, and if one is refused none of the
    others is applied. Fields not listed here are ignored."""

    status = serializers.ChoiceField(
        choices=Ticket.Status.choices,
        required=False,
        help_text="new → open → pending / on_hold → solved → closed; closed is final.",
    )
    on_hold_until = AwareDateTimeField(
        required=False,
        help_text="With status on_hold only: when it reopens by itself, at most 90 days ahead.",
    )
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, required=False)
    assignee_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=PK_MAX,
        help_text="An active agent of the workspace, or null for nobody.",
    )
    tags = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        # The service counts distinct tags; this only keeps a request from being absurd.
        max_length=TAGS_MAX * 5,
        help_text=f"Replaces the tags: at most {TAGS_MAX} words of letters, digits or - _ . : /, "
        f"each at most {TAG_MAX_CHARS} characters; stored lower-case.",
    )
    subject = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=SUBJECT_MAX,
        help_text="One line: line breaks are refused.",
    )

    _CHANGES = ("status", "priority", "assignee_id", "tags", "subject")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(name in attrs for name in self._CHANGES):
            raise serializers.ValidationError(
                "Send at least one of: " + ", ".join(self._CHANGES) + "."
            )
        if "on_hold_until" in attrs and attrs.get("status") != Ticket.Status.ON_HOLD:
            raise serializers.ValidationError(
                {"on_hold_until": ["Only goes with status on_hold."]}, code="invalid"
            )
        return attrs


class TicketMergeSerializer(serializers.Serializer):
    source_id = serializers.IntegerField(
        min_value=1,
        max_value=PK_MAX,
        help_text="The ticket to merge into this one: its conversations move here and it is "
        "closed. A ticket of another workspace is not found (404).",
    )


TICKET_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Ticket id."
)

# ---- Views --------------------------------------------------------------------------------


@extend_schema(tags=["tickets"])
class TicketViewSet(TenantViewSet[Ticket]):
    """The workspace's tickets. Every active agent sees and acts on all of them, as in the
    inbox."""

    model = Ticket
    selector = ticket_list_all
    access = ticket_access
    access_id_argument = "ticket_id"
    serializer_class = TicketSummarySerializer
    # The list pages by keyset (paging.py), never by offset or count.
    pagination_class = None

    @extend_schema(
        operation_id="tickets_list", parameters=[TicketListQuery], responses=TicketPageSerializer
    )
    def list(self, request):
        """The inbox list, newest activity first unless `sort` says otherwise. Unknown filter
        values are a 400 naming the parameter. Pages follow `next`; there is no total count,
        so a page costs the same in a workspace of any size."""
        query = TicketListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        assignee = wanted.get("assignee")
        view = wanted["view"]
        if assignee == NO_ASSIGNEE and view == "all":
            view = "unassigned"
        filters = TicketFilter(
            view=view,
            status=wanted["status"],
            channel=wanted.get("channel"),
            assignee_id=assignee if isinstance(assignee, int) else None,
            tag=wanted.get("tag"),
            priority=wanted.get("priority"),
            requester_id=wanted.get("requester"),
            search=wanted.get("q", "").strip(),
            sort=wanted["sort"],
        )
        tickets = ticket_list_for_agent(actor=self.actor, filters=filters)
        if assignee == NO_ASSIGNEE and view == "mine":
            tickets = tickets.none()  # yours and nobody's: no ticket is both
        page = keyset_page(
            tickets, request=request, cursor=wanted.get("cursor"), limit=wanted["limit"]
        )
        return Response({"results": [ticket_summary(t) for t in page.rows], "next": page.next_url})

    @extend_schema(
        operation_id="tickets_retrieve", parameters=[TICKET_ID], responses=TicketDetailSerializer
    )
    def retrieve(self, request, pk=None):
        """One ticket with its conversations (oldest first) and the tickets linked to it."""
        return Response(ticket_detail_payload(self.get_object()))

    @extend_schema(
        operation_id="tickets_partial_update",
        parameters=[TICKET_ID],
        request=TicketUpdateSerializer,
        responses=TicketDetailSerializer,
    )
    def partial_update(self, request, pk=None):
        """Change the status (with `on_hold_until` for on_hold), priority, assignee, tags and/or
        subject. All apply or none does; agents' sockets hear of it after the commit, and the
        customer of the new conversation status."""
        ticket = self.get_object()
        form = TicketUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        changes = form.validated_data
        # One transaction: a refused field undoes the accepted ones, and the broadcasts wait
        # for the commit.
        with transaction.atomic():
            if "priority" in changes:
                ticket_priority_set(ticket=ticket, priority=changes["priority"], actor=self.actor)
            if "assignee_id" in changes:
                ticket_assign(ticket=ticket, assignee_id=changes["assignee_id"], actor=self.actor)
            if "tags" in changes:
                ticket_tags_set(ticket=ticket, tags=changes["tags"], actor=self.actor)
            if "subject" in changes:
                ticket_subject_set(ticket=ticket, subject=changes["subject"], actor=self.actor)
            if "status" in changes:
                ticket_status_change(
                    ticket=ticket,
                    status=changes["status"],
                    snoozed_until=changes.get("on_hold_until"),
                    actor=self.actor,
                )
        return Response(ticket_detail_payload(self.get_object()))

    @extend_schema(
        operation_id="tickets_merge",
        parameters=[TICKET_ID],
        request=TicketMergeSerializer,
        responses=TicketDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge ticket `source_id` into this one: its conversations move here, both histories
        get a note, and it is closed pointing here. Returns this ticket."""
        target = self.get_object()
        form = TicketMergeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        source = ticket_access(actor=self.actor, ticket_id=form.validated_data["source_id"])
        merged = ticket_merge(source=source, target=target, actor=self.actor)
        return Response(ticket_detail_payload(merged))

    @extend_schema(operation_id="tickets_tags", responses=TicketTagsSerializer)
    @action(detail=False, methods=["get"])
    def tags(self, request):
        """The tags on any ticket, alphabetical: suggestions for the tag filter and editor."""
        return Response({"tags": ticket_tags_in_use()})
