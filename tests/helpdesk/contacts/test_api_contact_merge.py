"""POST /api/v1/contacts/{id}/merge/: one person known twice becomes one contact."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from chat.models import Conversation
from helpdesk.contacts.api import contact_payload
from helpdesk.contacts.models import Contact
from helpdesk.tickets.models import Ticket
from tenants.connection import connection as tenant_connection
from tests.helpdesk.api.helpers import OwnerApi, assert_error
from tests.helpdesk.tickets.helpers import ticket_in, workspace_state

pytestmark = pytest.mark.django_db


def merge(contact_id) -> str:
    return f"/api/v1/contacts/{contact_id}/merge/"


@pytest.fixture
def api(client, tenant):
    return OwnerApi(client, tenant)


def contact_in(tenant, **fields) -> Contact:
    with tenant_context(tenant):
        contact = Contact.objects.create(**fields)
    tenant_connection.set_schema_to_public()
    return contact


def _owned_by(tenant, contact_id: int) -> tuple[list[int], list[int]]:
    with tenant_context(tenant):
        conversations = list(
            Conversation.objects.filter(contact_id=contact_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        tickets = list(
            Ticket.objects.filter(requester_id=contact_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    tenant_connection.set_schema_to_public()
    return conversations, tickets


def test_merging_moves_conversations_and_tickets_and_deletes_the_source(api, tenant):
    # The same shopper: a verified chat identity, and an email writer.
    shopper = contact_in(
        tenant, name="Ana Lima", identity_verified=True, external_id="42", country="DE"
    )
    writer = contact_in(tenant, email="ana@example.com", email_verified=True, phone="+49 1")
    chat = ticket_in(tenant, contact=shopper, subject="Chat")
    mails = [
        ticket_in(tenant, contact=writer, channel="email", subject=f"Mail {n}") for n in (1, 2)
    ]

    response = api.post(merge(shopper.pk), {"source_id": writer.pk})

    assert response.status_code == 200, response.content
    body = response.json()
    with tenant_context(tenant):
        merged = Contact.objects.get(pk=shopper.pk)
        assert not Contact.objects.filter(pk=writer.pk).exists()
        assert {k: v for k, v in body.items() if k != "conversations"} == contact_payload(merged)
    assert (body["name"], body["email"], body["phone"], body["country"]) == (
        "Ana Lima",
        "ana@example.com",
        "+49 1",
        "DE",
    )
    assert (body["verified"], body["external_id"]) == (True, "42")
    assert merged.email_verified is True
    assert len(body["conversations"]) == 3
    conversations, tickets = _owned_by(tenant, shopper.pk)
    assert tickets == [chat.pk, *(t.pk for t in mails)]
    assert len(conversations) == 3
    assert _owned_by(tenant, writer.pk) == ([], [])


def test_two_verified_store_customers_are_two_people(api, tenant):
    first = contact_in(tenant, name="Ana", identity_verified=True, external_id="42")
    second = contact_in(tenant, name="Ana", identity_verified=True, external_id="43")
    ticket_in(tenant, contact=first)
    ticket_in(tenant, contact=second)
    before = workspace_state(tenant)

    response = api.post(merge(first.pk), {"source_id": second.pk})

    error = assert_error(response, 400, "invalid")
    assert error["details"]["non_field_errors"][0]["code"] == "both_verified"
    assert "different people" in error["message"]
    assert workspace_state(tenant) == before


def test_a_merge_without_a_usable_source_is_a_400(api, tenant):
    target = contact_in(tenant, name="Ana")
    contact_in(tenant, name="Ben")
    before = workspace_state(tenant)

    for body in [{}, {"source_id": "abc"}, {"source_id": 0}, {"source_id": {"$gt": 0}}]:
        error = assert_error(api.post(merge(target.pk), body), 400, "invalid")
        assert "source_id" in error["details"], body
    assert workspace_state(tenant) == before


def test_a_contact_cannot_be_merged_into_itself(api, tenant):
    ana = contact_in(tenant, name="Ana")
    ticket_in(tenant, contact=ana)
    before = workspace_state(tenant)

    error = assert_error(api.post(merge(ana.pk), {"source_id": ana.pk}), 400, "invalid")

    assert error["details"]["non_field_errors"][0]["code"] == "same_contact"
    assert workspace_state(tenant) == before


def test_another_workspaces_contacts_are_404_and_stay_unchanged(api, tenant, other_tenant):
    mine = contact_in(tenant, name="Mine")
    ticket_in(tenant, contact=mine)
    theirs = [contact_in(other_tenant, name=f"Theirs {n}") for n in range(3)]
    for contact in theirs:
        ticket_in(other_tenant, contact=contact)
    before_theirs, before_mine = workspace_state(other_tenant), workspace_state(tenant)

    into_theirs = api.post(merge(theirs[2].pk), {"source_id": mine.pk})
    from_theirs = api.post(merge(mine.pk), {"source_id": theirs[2].pk})
    both_theirs = api.post(merge(theirs[2].pk), {"source_id": theirs[1].pk})
    missing = api.post(merge(987654), {"source_id": mine.pk})

    for response in (into_theirs, from_theirs, both_theirs, missing):
        assert_error(response, 404, "not_found")
    assert into_theirs.content == from_theirs.content == missing.content
    assert workspace_state(other_tenant) == before_theirs
    assert workspace_state(tenant) == before_mine
