"""Conversations and messages for API tests, made with the models and the real message service."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from chat.models import Conversation, Message
from chat.services.messages import message_create
from helpdesk.contacts.models import Contact
from tenants.connection import connection
from tests.factories import ConversationFactory


def conversation_in(tenant, *, name: str = "Ana", contact: Contact | None = None, **fields):
    """A conversation (and a new contact unless one is given) in `tenant`'s schema.

    `age_minutes` sets its last activity that long ago, for ordering."""
    age = fields.pop("age_minutes", None)
    with tenant_context(tenant):
        if contact is None:
            contact = Contact.objects.create(name=name)
        if age is not None:
            fields["last_activity_at"] = timezone.now() - timedelta(minutes=age)
        conversation = ConversationFactory(contact=contact, **fields)
    connection.set_schema_to_public()
    return conversation


def messages_in(tenant, conversation, bodies, *, kind: str = "customer", agent=None) -> list:
    with tenant_context(tenant):
        stored = [
            message_create(
                conversation=conversation, sender_kind=kind, sender_agent=agent, body=body
            ).message
            for body in bodies
        ]
    connection.set_schema_to_public()
    return stored


def conversation_row(tenant, conversation_id: int) -> Conversation:
    with tenant_context(tenant):
        row = Conversation.objects.select_related("contact", "assignee").get(pk=conversation_id)
    connection.set_schema_to_public()
    return row


def message_rows(tenant, conversation_id: int | None = None) -> list[tuple]:
    with tenant_context(tenant):
        qs = Message.objects.order_by("conversation_id", "seq")
        if conversation_id is not None:
            qs = qs.filter(conversation_id=conversation_id)
        rows = list(qs.values_list("conversation_id", "seq", "sender_kind", "body", "is_internal"))
    connection.set_schema_to_public()
    return rows
