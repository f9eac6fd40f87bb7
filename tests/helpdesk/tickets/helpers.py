"""Tickets for tests, opened the way the product opens them (a conversation opens its ticket)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django_tenants.utils import tenant_context

from chat.models import Conversation, Message
from helpdesk.contacts.models import Contact
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.payloads import ticket_summary
from tenants.connection import connection
from tests.factories import ConversationFactory


def ticket_in(
    tenant,
    *,
    name: str = "Ana",
    contact: Contact | None = None,
    channel: str = "web",
    subject: str = "",
    age_minutes: float | None = None,
    **fields: Any,
) -> Ticket:
    """A ticket with one conversation in `tenant`'s schema; `fields` are then set on the ticket
    row (status, priority, tags, assignee...), `age_minutes` its last activity that long ago."""
    with tenant_context(tenant):
        if contact is None:
            contact = Contact.objects.create(name=name, email=f"{name.lower()}@example.com")
        conversation = ConversationFactory(contact=contact, channel=channel, subject=subject)
        if age_minutes is not None:
            fields["last_activity_at"] = timezone.now() - timedelta(minutes=age_minutes)
        ticket = Ticket.objects.get(conversations=conversation)
        if fields:
            Ticket.objects.filter(pk=ticket.pk).update(**fields)
        ticket = Ticket.objects.select_related("requester", "assignee").get(pk=ticket.pk)
    connection.set_schema_to_public()
    return ticket


def ticket_row(tenant, ticket_id: int) -> Ticket:
    with tenant_context(tenant):
        row = Ticket.objects.select_related("requester", "assignee").get(pk=ticket_id)
    connection.set_schema_to_public()
    return row


def ticket_state(tenant, ticket_id: int) -> dict[str, Any]:
    """What an agent sees of the ticket and its conversations, to compare before and after."""
    with tenant_context(tenant):
        row = Ticket.objects.select_related("requester", "assignee").get(pk=ticket_id)
        state = {
            **ticket_summary(row),
            "conversations": list(
                Conversation.objects.filter(ticket_id=ticket_id)
                .order_by("pk")
                .values("pk", "status", "snoozed_until", "assignee_id", "last_seq")
            ),
        }
    connection.set_schema_to_public()
    return state


def workspace_state(tenant) -> dict[str, Any]:
    """Every ticket, conversation, message and contact of the workspace, for "nothing changed"."""
    with tenant_context(tenant):
        state = {
            "tickets": [
                ticket_summary(t)
                for t in Ticket.objects.select_related("requester", "assignee").order_by("pk")
            ],
            "conversations": list(
                Conversation.objects.order_by("pk").values(
                    "pk", "ticket_id", "contact_id", "status", "snoozed_until", "last_seq"
                )
            ),
            "messages": list(
                Message.objects.order_by("pk").values_list(
                    "pk", "conversation_id", "seq", "body", "is_internal"
                )
            ),
            "contacts": list(Contact.objects.order_by("pk").values()),
        }
    connection.set_schema_to_public()
    return state


def conversations_of(tenant, ticket_id: int) -> list[Conversation]:
    with tenant_context(tenant):
        rows = list(
            Conversation.objects.filter(ticket_id=ticket_id)
            .select_related("contact", "assignee")
            .order_by("created_at", "pk")
        )
    connection.set_schema_to_public()
    return rows
