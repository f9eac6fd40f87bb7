"""The JSON the ticket API returns, described for the OpenAPI schema.

As in chat.api.shapes, the shapes come from the payload functions the sockets use
(helpdesk.tickets.payloads, chat.payloads); the serializers declare the fields for the schema and
render through those functions. A test compares the declared fields with the payloads' keys.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from chat.api.shapes import (
    AssigneeSerializer,
    ContactBriefSerializer,
    ConversationSummarySerializer,
    EmailSideSerializer,
    MessageSerializer,
)
from chat.models import Conversation, Message
from chat.payloads import conversation_summary, message_payload
from helpdesk.tickets.api.selectors import ticket_related_refs
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.payloads import ticket_summary
from helpdesk.tickets.selectors import ticket_conversations

# ---- Tickets -------------------------------------------------------------------------------


class TicketRequesterSerializer(ContactBriefSerializer):
    email_failing = serializers.BooleanField(
        help_text="Mail to the address bounced; replies by email may not arrive."
    )


class TicketSummarySerializer(serializers.Serializer):
    """A ticket as the inbox list shows it; the same object agent sockets send."""

    id = serializers.IntegerField()
    number = serializers.IntegerField(help_text="Per workspace, from 1001; shown as #1001.")
    subject = serializers.CharField(allow_blank=True, help_text="One line of plain text.")
    status = serializers.ChoiceField(choices=Ticket.Status.choices)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices)
    assignee = AssigneeSerializer(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=Conversation.Channel.choices),
        help_text="Channels of its conversations, for the list's icons.",
    )
    requester = TicketRequesterSerializer()
    merged_into = serializers.IntegerField(
        allow_null=True, help_text="The ticket that took its conversations when merged."
    )
    follow_up_of = serializers.IntegerField(
        allow_null=True,
        help_text="The closed ticket whose customer wrote again and so opened this one.",
    )
    last_message_preview = serializers.CharField(allow_blank=True)
    last_message_sender_kind = serializers.CharField(
        allow_blank=True, help_text="customer, agent, bot or system; empty before any message."
    )
    unread_count = serializers.IntegerField(help_text="Customer messages no agent has read.")
    created_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()
    solved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: Ticket) -> dict[str, Any]:
        return ticket_summary(instance)


@extend_schema_serializer(many=False)
class TicketPageSerializer(serializers.Serializer):
    results = TicketSummarySerializer(many=True)
    next = serializers.URLField(
        allow_null=True,
        help_text="The next page, with the same filters; null on the last page.",
    )


class TicketRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Ticket.Status.choices)


def ticket_detail_payload(ticket: Ticket) -> dict[str, Any]:
    """The summary with the ticket's conversations and the tickets linked to it."""
    return {
        **ticket_summary(ticket),
        "conversations": [conversation_summary(c) for c in ticket_conversations(ticket=ticket)],
        **ticket_related_refs(ticket=ticket),
    }


class TicketDetailSerializer(TicketSummarySerializer):
    conversations = ConversationSummarySerializer(many=True, help_text="Oldest first.")
    follow_ups = TicketRefSerializer(
        many=True, help_text="Tickets opened when the customer wrote again after it was closed."
    )
    merged_tickets = TicketRefSerializer(
        many=True, help_text="Tickets merged into this one (closed, their conversations here)."
    )

    def to_representation(self, instance: Ticket) -> dict[str, Any]:
        return ticket_detail_payload(instance)


class TicketTagsSerializer(serializers.Serializer):
    tags = serializers.ListField(child=serializers.CharField(), help_text="Alphabetical.")


# ---- Messages ------------------------------------------------------------------------------


def ticket_message_payload(message: Message) -> dict[str, Any]:
    """The agent socket's message, with the channel of the conversation it was written in.
    Needs the conversation and its contact loaded (select_related)."""
    conversation = message.conversation
    return {
        **message_payload(message, contact_name=conversation.contact.display_name, for_agent=True),
        "channel": conversation.channel,
    }


class TicketMessageSerializer(MessageSerializer):
    """A message of any of the ticket's conversations, internal notes included."""

    channel = serializers.ChoiceField(
        choices=Conversation.Channel.choices, help_text="Of the conversation it belongs to."
    )
    email = EmailSideSerializer(allow_null=True, help_text="Set when the message is a mail.")

    def to_representation(self, instance: Message) -> dict[str, Any]:
        return ticket_message_payload(instance)


class TicketMessagePageSerializer(serializers.Serializer):
    results = TicketMessageSerializer(many=True, help_text="Oldest first.")
    older_available = serializers.BooleanField(
        help_text="Older messages exist: ask again with before=<id of the first one>."
    )
