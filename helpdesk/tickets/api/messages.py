"""API for a ticket's messages: /api/v1/tickets/{id}/messages/.

One timeline across the ticket's conversations (a chat, then an email thread...), internal notes
included. Writing answers in one of them through the same service as the inbox composer, so a
chat visitor receives the reply live and an email customer gets it as a mail.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from chat.api.messages import MessageCreateSerializer
from chat.selectors.messages import MESSAGES_PAGE_MAX
from chat.services.replies import conversation_reply
from helpdesk.api.base import TenantViewSet
from helpdesk.object_ids import PK_MAX
from helpdesk.tickets.api.selectors import ticket_conversation_for_reply, ticket_messages_before
from helpdesk.tickets.api.shapes import (
    TicketMessagePageSerializer,
    TicketMessageSerializer,
    ticket_message_payload,
)
from helpdesk.tickets.api.tickets import TICKET_ID, ticket_list_all
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.selectors import ticket_access

MESSAGES_PAGE_DEFAULT = 50


class TicketMessageListQuery(serializers.Serializer):
    before = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=PK_MAX,
        help_text="A message id of this ticket: the page before it (scrolling up).",
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MESSAGES_PAGE_MAX,
        default=MESSAGES_PAGE_DEFAULT,
        help_text=f"At most {MESSAGES_PAGE_MAX}.",
    )


class TicketMessageCreateSerializer(MessageCreateSerializer):
    """A reply or an internal note in one of the ticket's conversations: the conversations API's
    fields, plus which conversation. Fields not listed here (a sender...) are ignored."""

    conversation_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=PK_MAX,
        help_text="One of the ticket's conversations; by default the most recently active.",
    )


@extend_schema(tags=["tickets"], parameters=[TICKET_ID])
class TicketMessageViewSet(TenantViewSet[Ticket]):
    """The messages of all of a ticket's conversations (agents see everything)."""

    model = Ticket
    selector = ticket_list_all
    access = ticket_access
    access_id_argument = "ticket_id"
    serializer_class = TicketMessageSerializer
    # Pages by message position, not offset. Actions aren't named list/create so the schema
    # doesn't wrap the page object in an array.
    pagination_class = None

    @extend_schema(
        operation_id="tickets_messages_list",
        parameters=[TicketMessageListQuery],
        responses=TicketMessagePageSerializer,
    )
    def history(self, request, pk=None):
        """The newest messages, oldest first by time; `before=<id>` pages back from a message
        (the first one of the page you have)."""
        ticket = self.get_object()
        query = TicketMessageListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        messages, older_available = ticket_messages_before(
            ticket=ticket, before_id=wanted.get("before"), limit=wanted["limit"]
        )
        return Response(
            {
                "results": [ticket_message_payload(m) for m in messages],
                "older_available": older_available,
            }
        )

    @extend_schema(
        operation_id="tickets_messages_create",
        request=TicketMessageCreateSerializer,
        responses={201: TicketMessageSerializer, 200: TicketMessageSerializer},
    )
    def send(self, request, pk=None):
        """Reply (a chat visitor receives it live; an email customer as a mail, queued and sent
        by the worker) or, with `is_internal`, write a note for the team. 201 with the message;
        200 with the stored one when `client_message_id` repeats."""
        ticket = self.get_object()
        form = TicketMessageCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        sent: dict[str, Any] = form.validated_data
        conversation = ticket_conversation_for_reply(
            ticket=ticket, conversation_id=sent.get("conversation_id")
        )
        write = conversation_reply(
            conversation=conversation,
            actor=self.actor,
            body=sent["body"],
            is_internal=sent["is_internal"],
            client_message_id=sent["client_message_id"],
            attachment_ids=sent["attachments"],
        )
        message = write.message
        # The payload reads the conversation's contact and channel from the message.
        message.conversation = conversation
        return Response(
            ticket_message_payload(message),
            status=status.HTTP_201_CREATED if write.created else status.HTTP_200_OK,
        )
