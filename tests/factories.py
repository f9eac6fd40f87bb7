"""Factories that go through the real services, so tests exercise what users exercise."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from django_tenants.utils import tenant_context

from tenants.connection import connection
from tenants.services.signup import tenant_signup

if TYPE_CHECKING:
    from tenants.agents.models import User
    from tenants.models import Tenant

OWNER_PASSWORD = "owner-pass-Quokka-42"
AGENT_PASSWORD = "agent-pass-Wombat-42"
_counter = itertools.count(1)


def TenantFactory(
    *,
    slug: str | None = None,
    company_name: str | None = None,
    owner_email: str | None = None,
    owner_password: str = OWNER_PASSWORD,
    owner_name: str = "Olivia Owner",
    timezone: str = "UTC",
    language: str = "en",
) -> Tenant:
    n = next(_counter)
    slug = slug or f"shop{n}"
    result = tenant_signup(
        company_name=company_name or f"Shop {n}",
        slug=slug,
        owner_name=owner_name,
        owner_email=owner_email or f"owner@{slug}.example",
        owner_password=owner_password,
        timezone=timezone,
        language=language,
    )
    connection.set_schema_to_public()
    return result.tenant


def AgentFactory(
    *,
    tenant: Tenant,
    email: str | None = None,
    name: str = "Alex Agent",
    role: str = "agent",
    password: str = AGENT_PASSWORD,
    **fields,
) -> User:
    """An agent account created directly in the tenant's schema (as an accepted invite would)."""
    from allauth.account.models import EmailAddress

    from tenants.agents.models import User

    n = next(_counter)
    with tenant_context(tenant):
        user = User.objects.create_user(
            email=email or f"agent{n}@{tenant.slug}.example",
            password=password,
            name=name,
            role=role,
            **fields,
        )
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    connection.set_schema_to_public()
    return user


def host_of(tenant: Tenant) -> str:
    return tenant.get_primary_domain().domain


def ConversationFactory(*, contact=None, channel: str = "web", subject: str = "", **fields):
    """A conversation opened the way the product opens one: with its ticket. Call inside the
    workspace's schema. Extra fields (assignee, status, ...) are set on both afterwards."""
    from chat.models import Conversation
    from chat.services.conversations import conversation_open
    from helpdesk.contacts.models import Contact
    from helpdesk.tickets.models import Ticket

    contact = contact or Contact.objects.create(name="Ana")
    conversation = conversation_open(contact=contact, channel=channel, subject=subject)
    if fields:
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
        ticket_fields = {
            k: v for k, v in fields.items() if k in ("assignee", "last_activity_at", "created_at")
        }
        if "status" in fields:
            ticket_fields["status"] = {
                "open": "open",
                "pending": "pending",
                "snoozed": "on_hold",
                "resolved": "solved",
            }[fields["status"]]
        if ticket_fields:
            Ticket.objects.filter(conversations=conversation).update(**ticket_fields)
        conversation.refresh_from_db()
        conversation.contact = contact
    return conversation
