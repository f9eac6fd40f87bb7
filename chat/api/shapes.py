"""The JSON the chat API returns, described for the OpenAPI schema.

The shapes themselves come from chat.payloads, the functions the sockets use, so the API and the
sockets can't drift apart: each serializer here declares its fields only so drf-spectacular can
document them, and renders through the payload function. A test compares the declared fields
with the payloads' keys.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from chat.models import Conversation, EmailMessage, Message
from chat.payloads import conversation_brief, conversation_summary, message_payload

# ---- Conversations ------------------------------------------------------------------------


class AssigneeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ContactBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(
        help_text="The contact's name, else their email, else 'Visitor <id>'."
    )
    email = serializers.CharField(allow_blank=True)
    verified = serializers.BooleanField(help_text="Identity signed by the merchant's store.")


class ConversationSummarySerializer(serializers.Serializer):
    """A conversation as the inbox list shows it; the same object agent sockets send."""

    id = serializers.IntegerField()
    ticket_id = serializers.IntegerField(help_text="The ticket this conversation belongs to.")
    status = serializers.ChoiceField(choices=Conversation.Status.choices)
    snoozed_until = serializers.DateTimeField(allow_null=True)
    channel = serializers.ChoiceField(choices=Conversation.Channel.choices)
    assignee = AssigneeSerializer(allow_null=True)
    contact = ContactBriefSerializer()
    last_seq = serializers.IntegerField(help_text="Sequence number of the newest message.")
    last_message_preview = serializers.CharField(allow_blank=True)
    last_message_sender_kind = serializers.CharField(
        allow_blank=True, help_text="customer, agent, bot or system; empty before any message."
    )
    last_activity_at = serializers.DateTimeField()
    agent_unread_count = serializers.IntegerField()
    agent_last_read_seq = serializers.IntegerField()
    visitor_last_read_seq = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def to_representation(self, instance: Conversation) -> dict[str, Any]:
        return conversation_summary(instance)


class ConversationBriefSerializer(serializers.Serializer):
    """A line of a contact's conversation history (customer panel, contact page)."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Conversation.Status.choices)
    channel = serializers.ChoiceField(choices=Conversation.Channel.choices)
    last_message_preview = serializers.CharField(allow_blank=True)
    last_activity_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()

    def to_representation(self, instance: Conversation) -> dict[str, Any]:
        return conversation_brief(instance)


# ---- Messages -----------------------------------------------------------------------------


class AttachmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    url = serializers.CharField(help_text="Download address on the workspace host.")


class AuthorSerializer(serializers.Serializer):
    name = serializers.CharField()
    avatar_url = serializers.CharField(
        required=False, allow_null=True, help_text="Agents only; absent for a customer."
    )


class EmailAddressSerializer(serializers.Serializer):
    address = serializers.CharField(allow_blank=True)
    name = serializers.CharField(allow_blank=True)


class EmailSideSerializer(serializers.Serializer):
    """The mail side of a message (chat.email.payloads.email_payload)."""

    direction = serializers.ChoiceField(choices=EmailMessage.Direction.choices)
    # "from" is a Python keyword; the field is renamed below.
    from_ = EmailAddressSerializer()
    to = serializers.ListField(child=serializers.CharField())
    cc = serializers.ListField(child=serializers.CharField())
    subject = serializers.CharField(allow_blank=True)
    has_html = serializers.BooleanField()
    html_url = serializers.CharField(
        allow_null=True,
        help_text="The sanitized HTML in a sandboxed page; remote images only with ?images=1.",
    )
    raw_url = serializers.CharField(allow_null=True, help_text="The mail as received.")
    has_remote_images = serializers.BooleanField()
    quoted_text = serializers.CharField(
        allow_blank=True, help_text="Quoted history and signature cut from the body."
    )
    auto_submitted = serializers.BooleanField()
    parse_error = serializers.CharField(allow_blank=True)
    delivery_status = serializers.ChoiceField(choices=EmailMessage.Delivery.choices)
    delivery_error = serializers.CharField(allow_blank=True)
    sent_at = serializers.DateTimeField(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class MessageSerializer(serializers.Serializer):
    """A message as agents see it (the agent socket's `message`): internal notes included."""

    id = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="Gap-free position in the conversation, from 1.")
    client_message_id = serializers.CharField(allow_null=True)
    sender_kind = serializers.ChoiceField(choices=Message.SenderKind.choices)
    author = AuthorSerializer(allow_null=True)
    body = serializers.CharField(allow_blank=True, help_text="Plain text; never HTML.")
    created_at = serializers.DateTimeField()
    attachments = AttachmentSerializer(many=True)
    is_internal = serializers.BooleanField(
        help_text="An internal note, never shown to the customer."
    )
    conversation_id = serializers.IntegerField()
    email = EmailSideSerializer(allow_null=True, help_text="Set when the message is a mail.")

    def to_representation(self, instance: Message) -> dict[str, Any]:
        return message_payload(instance, contact_name=self.context["contact_name"], for_agent=True)
