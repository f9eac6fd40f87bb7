"""/api/v1/conversations/: the inbox list, one conversation, status / assignee / read changes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from chat.api.shapes import ConversationSummarySerializer, MessageSerializer
from chat.models import Attachment, Conversation
from chat.payloads import (
    attachment_payload,
    contact_brief,
    conversation_summary,
    message_payload,
)
from helpdesk.contacts.api import ContactSerializer, contact_payload
from helpdesk.contacts.models import Contact
from tests.chat.api_helpers import conversation_in, conversation_row, messages_in
from tests.factories import AgentFactory, host_of
from tests.helpdesk.api.helpers import (
    OwnerApi,
    assert_error,
    bearer,
    owner_of,
    session_login,
    token_for,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/conversations/"
COUNTS = "/api/v1/conversations/counts/"
XSS = "<img src=x onerror=alert(1)>"
# Host, token with its agent, count, page; plus django-tenants' SET search_path.
LIST_QUERIES_MAX = 8


def detail(conversation_id) -> str:
    return f"/api/v1/conversations/{conversation_id}/"


def read(conversation_id) -> str:
    return f"/api/v1/conversations/{conversation_id}/read/"


@pytest.fixture
def api(client, tenant):
    return OwnerApi(client, tenant)


# ---- List ----------------------------------------------------------------------------------


def test_the_list_shows_open_conversations_newest_activity_first_as_the_sockets_do(api, tenant):
    older = conversation_in(tenant, name="Ana", age_minutes=30)
    newer = conversation_in(tenant, name="Ben", age_minutes=5)
    conversation_in(tenant, name="Cleo", status="resolved")

    response = api.get(LIST)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    assert [c["contact"]["name"] for c in body["results"]] == ["Ben", "Ana"]
    with tenant_context(tenant):
        expected = [
            conversation_summary(Conversation.objects.select_related("contact").get(pk=pk))
            for pk in (newer.pk, older.pk)
        ]
    assert body["results"] == expected


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"view": "mine"}, ["Mine"]),
        ({"view": "unassigned"}, ["Nobody's"]),
        ({"view": "all"}, ["Mine", "Colleague's", "Nobody's"]),
        ({"status": "pending"}, ["Pending"]),
        ({"status": "any"}, ["Mine", "Colleague's", "Nobody's", "Pending"]),
        ({"view": "unassigned", "status": "any"}, ["Nobody's", "Pending"]),
    ],
)
def test_views_and_statuses_filter_the_list(api, tenant, query, names):
    owner = owner_of(tenant)
    colleague = AgentFactory(tenant=tenant)
    conversation_in(tenant, name="Mine", assignee=owner, age_minutes=1)
    conversation_in(tenant, name="Colleague's", assignee=colleague, age_minutes=2)
    conversation_in(tenant, name="Nobody's", age_minutes=3)
    conversation_in(tenant, name="Pending", status="pending", age_minutes=4)

    response = api.get(LIST, **query)

    assert response.status_code == 200, response.content
    assert [c["contact"]["name"] for c in response.json()["results"]] == names


def test_the_contact_filter_lists_one_contacts_conversations(api, tenant):
    first = conversation_in(tenant, name="Ana", status="resolved", age_minutes=10)
    again = conversation_in(tenant, contact=first.contact, age_minutes=1)
    conversation_in(tenant, name="Ben")

    response = api.get(LIST, contact=first.contact_id, status="any")

    assert [c["id"] for c in response.json()["results"]] == [again.pk, first.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"view": "everyone"}, "view"),
        ({"status": "closed"}, "status"),
        ({"status": "open' OR 1=1 --"}, "status"),
        ({"status": '{"$ne": null}'}, "status"),
        ({"contact": "abc"}, "contact"),
        ({"contact": "0"}, "contact"),
        ({"contact": "99999999999999999999999"}, "contact"),
    ],
)
def test_unknown_filter_values_are_a_400_naming_the_parameter(api, tenant, query, field):
    conversation_in(tenant)

    error = assert_error(api.get(LIST, **query), 400, "invalid")

    assert field in error["details"]


def test_the_list_is_paginated(api, tenant):
    for n in range(5):
        conversation_in(tenant, name=f"C{n}", age_minutes=n)

    first = api.get(LIST, limit=2).json()
    second = api.get(first["next"]).json()

    assert first["count"] == 5
    assert [c["contact"]["name"] for c in first["results"]] == ["C0", "C1"]
    assert [c["contact"]["name"] for c in second["results"]] == ["C2", "C3"]


def test_list_query_count_does_not_grow_with_the_conversations(
    client, tenant, django_assert_max_num_queries
):
    host = host_of(tenant)
    owner = owner_of(tenant)
    agents = [owner, AgentFactory(tenant=tenant), AgentFactory(tenant=tenant)]
    token = token_for(tenant, owner)
    client.get(LIST, HTTP_HOST=host, **bearer(token))  # marks the token used

    def rows(count: int) -> None:
        for n in range(count):
            # A contact and an assignee each: the N+1 the list must not have.
            conversation_in(tenant, name=f"Row {n}", assignee=agents[n % 3] if n % 4 else None)

    def listed() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST + "?limit=200", HTTP_HOST=host, **bearer(token))
        return len(response.json()["results"]), len(queries)

    rows(3)
    with django_assert_max_num_queries(LIST_QUERIES_MAX):
        three, queries_for_three = listed()
    rows(10)
    with django_assert_max_num_queries(LIST_QUERIES_MAX):
        thirteen, queries_for_thirteen = listed()

    assert (three, thirteen) == (3, 13)
    assert queries_for_three == queries_for_thirteen


# ---- Counts ---------------------------------------------------------------------------------


def test_counts_per_view_for_a_status(api, tenant):
    owner = owner_of(tenant)
    conversation_in(tenant, assignee=owner)
    conversation_in(tenant)
    conversation_in(tenant)
    conversation_in(tenant, status="pending")

    open_counts = api.get(COUNTS).json()
    pending = api.get(COUNTS, status="pending").json()

    assert open_counts == {"status": "open", "mine": 1, "unassigned": 2, "all": 3}
    assert pending == {"status": "pending", "mine": 0, "unassigned": 1, "all": 1}


def test_counts_refuse_an_unknown_status(api, tenant):
    error = assert_error(api.get(COUNTS, status="closed"), 400, "invalid")

    assert "status" in error["details"]


# ---- One conversation ---------------------------------------------------------------------


def test_one_conversation_has_what_the_customer_panel_shows(api, tenant):
    with tenant_context(tenant):
        contact = Contact.objects.create(
            name="Ana",
            email="ana@example.com",
            country="DE",
            language="de-DE",
            timezone="Europe/Berlin",
            last_seen_at=timezone.now(),
            last_page_url="https://shop.example/p/1",
            last_page_title="Red shoes",
            last_referrer="https://google.com/",
            last_user_agent="Mozilla/5.0",
            identity_verified=True,
            external_id="42",
            custom_attributes={"plan": "gold"},
        )
    earlier = [
        conversation_in(tenant, contact=contact, status="resolved", age_minutes=100 + n)
        for n in range(12)
    ]
    current = conversation_in(
        tenant,
        contact=contact,
        started_context={"fields": {"order": "A-1"}, "page_url": "https://shop.example/p/1"},
    )
    messages_in(tenant, earlier[0], ["Where is my order?"])

    response = api.get(detail(current.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    row = conversation_row(tenant, current.pk)
    summary = conversation_summary(row)
    full_contact = contact_payload(row.contact)
    assert {k: v for k, v in body.items() if k in summary and k != "contact"} == {
        k: v for k, v in summary.items() if k != "contact"
    }
    assert body["contact"] == full_contact
    assert body["contact"]["timezone"] == "Europe/Berlin"
    assert body["contact"]["last_page_title"] == "Red shoes"
    assert body["contact"]["verified"] is True
    assert body["contact"]["custom_attributes"] == {"plan": "gold"}
    assert body["started_context"]["fields"] == {"order": "A-1"}
    previous = body["previous_conversations"]
    assert [p["id"] for p in previous] == [c.pk for c in earlier[:10]]
    assert previous[0]["last_message_preview"] == "Where is my order?"
    assert set(previous[0]) == {
        "id",
        "status",
        "channel",
        "last_message_preview",
        "last_activity_at",
        "created_at",
    }
    assert contact.visitor_key not in response.content.decode()
    assert "visitor_key" not in response.content.decode()


def test_customer_text_comes_back_verbatim_as_json(api, tenant):
    conversation = conversation_in(tenant, name=XSS)
    messages_in(tenant, conversation, [XSS])

    response = api.get(detail(conversation.pk))

    assert response["Content-Type"].startswith("application/json")
    assert response.json()["contact"]["name"] == XSS
    assert response.json()["last_message_preview"] == XSS


# ---- Status and assignee ------------------------------------------------------------------


def test_resolving_returns_the_new_summary(api, tenant):
    conversation = conversation_in(tenant)

    response = api.patch(detail(conversation.pk), {"status": "resolved"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "resolved"
    assert conversation_row(tenant, conversation.pk).status == "resolved"


def test_snoozing_takes_a_future_time_with_its_offset_and_answers_in_utc(client, tenant):
    # An agent whose own time zone is active for the request: times still come back in UTC.
    agent = AgentFactory(tenant=tenant, timezone="Asia/Tokyo")
    conversation = conversation_in(tenant)
    until = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    local = until.astimezone(timezone.get_fixed_timezone(-300))  # UTC-5, as a browser may send

    response = client.patch(
        detail(conversation.pk),
        {"status": "snoozed", "snoozed_until": local.isoformat()},
        content_type="application/json",
        HTTP_HOST=host_of(tenant),
        **bearer(token_for(tenant, agent)),
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "snoozed"
    assert response.json()["snoozed_until"] == until.isoformat().replace("+00:00", "Z")
    assert conversation_row(tenant, conversation.pk).snoozed_until == until


@pytest.mark.parametrize(
    "body",
    [
        {"status": "closed"},
        {"status": {"$ne": "open"}},
        {"status": ["resolved"]},
        {"status": "snoozed"},
        {"status": "snoozed", "snoozed_until": "2099-01-01T10:00:00"},  # no offset
        {"status": "snoozed", "snoozed_until": "2001-01-01T10:00:00+00:00"},  # past
        {"status": "snoozed", "snoozed_until": "tomorrow"},
        {"status": "resolved", "snoozed_until": "2099-01-01T10:00:00+00:00"},
        {"assignee_id": 987654},
        {"assignee_id": "abc"},
        {"assignee_id": True},
        {"assignee_id": {"$gt": 0}},
        {"assignee_id": 0},
        {},
        {"conversation_id": 2},
    ],
)
def test_invalid_changes_are_a_400_and_change_nothing(api, tenant, body):
    conversation = conversation_in(tenant)
    before = conversation_summary(conversation_row(tenant, conversation.pk))

    response = api.patch(detail(conversation.pk), body)

    assert_error(response, 400, "invalid")
    assert conversation_summary(conversation_row(tenant, conversation.pk)) == before


def test_a_service_refusal_reads_as_its_message(api, tenant):
    conversation = conversation_in(tenant)

    response = api.patch(
        detail(conversation.pk), {"status": "snoozed", "snoozed_until": "2001-01-01T10:00:00Z"}
    )

    error = assert_error(response, 400, "invalid")
    assert "future" in error["message"]


def test_status_and_a_bad_assignee_together_change_neither(api, tenant):
    conversation = conversation_in(tenant)

    response = api.patch(detail(conversation.pk), {"status": "resolved", "assignee_id": 987654})

    assert_error(response, 400, "invalid")
    row = conversation_row(tenant, conversation.pk)
    assert (row.status, row.assignee_id) == ("open", None)


def test_assigning_to_a_colleague_and_back_to_nobody(api, tenant):
    colleague = AgentFactory(tenant=tenant, name="Luis")
    conversation = conversation_in(tenant)

    assigned = api.patch(detail(conversation.pk), {"assignee_id": colleague.pk})
    cleared = api.patch(detail(conversation.pk), {"assignee_id": None})

    assert assigned.status_code == 200, assigned.content
    assert assigned.json()["assignee"] == {"id": colleague.pk, "name": "Luis"}
    assert cleared.json()["assignee"] is None
    assert conversation_row(tenant, conversation.pk).assignee_id is None


def test_a_deactivated_agent_cannot_be_assigned(api, tenant):
    gone = AgentFactory(tenant=tenant, is_active=False)
    conversation = conversation_in(tenant)

    response = api.patch(detail(conversation.pk), {"assignee_id": gone.pk})

    assert_error(response, 400, "invalid")
    assert conversation_row(tenant, conversation.pk).assignee_id is None


def test_status_and_assignee_in_one_request(api, tenant):
    owner = owner_of(tenant)
    conversation = conversation_in(tenant)

    response = api.patch(detail(conversation.pk), {"status": "pending", "assignee_id": owner.pk})

    assert response.json()["status"] == "pending"
    assert response.json()["assignee"]["id"] == owner.pk


def test_ids_in_the_body_never_redirect_the_change(api, tenant):
    target = conversation_in(tenant, name="Target")
    bystander = conversation_in(tenant, name="Bystander")

    response = api.patch(
        detail(target.pk),
        {
            "status": "resolved",
            "id": bystander.pk,
            "conversation_id": bystander.pk,
            "tenant": "globex",
            "schema_name": "globex",
        },
    )

    assert response.status_code == 200, response.content
    assert response.json()["id"] == target.pk
    assert conversation_row(tenant, target.pk).status == "resolved"
    assert conversation_row(tenant, bystander.pk).status == "open"


def test_put_is_not_offered(client, tenant):
    conversation = conversation_in(tenant)
    token = token_for(tenant, owner_of(tenant))

    response = client.put(
        detail(conversation.pk),
        {"status": "resolved"},
        content_type="application/json",
        HTTP_HOST=host_of(tenant),
        **bearer(token),
    )

    assert_error(response, 405, "method_not_allowed")
    assert conversation_row(tenant, conversation.pk).status == "open"


# ---- Read position -------------------------------------------------------------------------


def test_reading_clears_the_unread_count_up_to_the_seq(api, tenant):
    conversation = conversation_in(tenant)
    messages_in(tenant, conversation, ["one", "two", "three"])

    partly = api.post(read(conversation.pk), {"seq": 2})
    beyond = api.post(read(conversation.pk), {"seq": 99})

    assert partly.status_code == 200, partly.content
    assert (partly.json()["agent_last_read_seq"], partly.json()["agent_unread_count"]) == (2, 1)
    assert (beyond.json()["agent_last_read_seq"], beyond.json()["agent_unread_count"]) == (3, 0)


@pytest.mark.parametrize("body", [{}, {"seq": -1}, {"seq": "abc"}, {"seq": {"$gt": 0}}])
def test_a_bad_read_position_is_a_400(api, tenant, body):
    conversation = conversation_in(tenant)
    messages_in(tenant, conversation, ["one"])

    assert_error(api.post(read(conversation.pk), body), 400, "invalid")
    assert conversation_row(tenant, conversation.pk).agent_unread_count == 1


# ---- Auth ----------------------------------------------------------------------------------


def test_an_agent_signed_in_with_a_session_can_use_the_list(client, tenant):
    agent = AgentFactory(tenant=tenant)
    conversation_in(tenant, name="Ana")
    session_login(client, tenant, agent)

    response = client.get(LIST, HTTP_HOST=host_of(tenant))

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_without_credentials_it_is_a_401(client, tenant):
    conversation = conversation_in(tenant)

    assert_error(client.get(LIST, HTTP_HOST=host_of(tenant)), 401, "not_authenticated")
    response = client.patch(
        detail(conversation.pk),
        {"status": "resolved"},
        content_type="application/json",
        HTTP_HOST=host_of(tenant),
    )
    assert_error(response, 401)
    assert conversation_row(tenant, conversation.pk).status == "open"


# ---- Cross-tenant -------------------------------------------------------------------------


def test_the_same_id_in_two_workspaces_reads_only_the_callers_own(api, tenant, other_tenant):
    mine = conversation_in(tenant, name="Mine")
    theirs = conversation_in(other_tenant, name="Theirs")
    assert mine.pk == theirs.pk  # schemas are cloned, so ids line up: the case to guard

    one = api.get(detail(mine.pk)).json()
    listed = api.get(LIST, status="any").json()

    assert one["contact"]["name"] == "Mine"
    assert [c["contact"]["name"] for c in listed["results"]] == ["Mine"]


def test_another_workspaces_conversation_is_404_like_a_missing_one_and_stays_unchanged(
    api, tenant, other_tenant
):
    conversation_in(tenant, name="Mine")
    for n in range(3):
        theirs = conversation_in(other_tenant, name=f"Theirs {n}")
    messages_in(other_tenant, theirs, ["private"])
    before = conversation_summary(conversation_row(other_tenant, theirs.pk))

    responses = {
        "get": api.get(detail(theirs.pk)),
        "patch": api.patch(detail(theirs.pk), {"status": "resolved", "assignee_id": 1}),
        "read": api.post(read(theirs.pk), {"seq": 1}),
    }
    missing = api.get(detail(987654))

    for response in responses.values():
        assert_error(response, 404, "not_found")
        assert response.content == missing.content
    assert conversation_summary(conversation_row(other_tenant, theirs.pk)) == before


def test_the_other_workspace_keeps_its_state_when_the_same_id_is_changed_here(
    api, tenant, other_tenant
):
    mine = conversation_in(tenant)
    theirs = conversation_in(other_tenant)
    assert mine.pk == theirs.pk

    api.patch(detail(mine.pk), {"status": "resolved", "assignee_id": owner_of(tenant).pk})

    row = conversation_row(other_tenant, theirs.pk)
    assert (row.status, row.assignee_id) == ("open", None)


@pytest.mark.parametrize("conversation_id", ["abc", "1.5", "-1", "99999999999999999999999", "0"])
def test_nonsense_ids_are_json_404s(api, tenant, conversation_id):
    assert_error(api.get(detail(conversation_id)), 404, "not_found")


# ---- The schema documents the payloads exactly --------------------------------------------


def test_the_documented_fields_are_exactly_the_payloads_keys(tenant):
    conversation = conversation_in(tenant)
    agent_message = messages_in(tenant, conversation, ["hi"], kind="agent", agent=owner_of(tenant))
    with tenant_context(tenant):
        row = Conversation.objects.select_related("contact", "assignee").get(pk=conversation.pk)
        summary = conversation_summary(row)
        message = message_payload(agent_message[0], contact_name="Ana", for_agent=True)
        contact = contact_payload(row.contact)

    assert set(ConversationSummarySerializer().fields) == set(summary)
    assert set(MessageSerializer().fields) == set(message)
    attachment = attachment_payload(
        Attachment(id=uuid.uuid4(), name="a.pdf", content_type="application/pdf", size=1)
    )
    assert set(MessageSerializer().fields["attachments"].child.fields) == set(attachment)
    assert set(ContactSerializer().fields) == set(contact)
    # The detail's full contact stands where the summary has the brief one: a superset.
    assert contact_brief(row.contact).items() <= contact.items()


def test_the_chat_endpoints_are_in_the_openapi_schema(client, tenant):
    schema = client.get("/api/schema/?format=json", HTTP_HOST=host_of(tenant)).json()

    assert {
        "/api/v1/conversations/",
        "/api/v1/conversations/counts/",
        "/api/v1/conversations/{id}/",
        "/api/v1/conversations/{id}/read/",
        "/api/v1/conversations/{id}/messages/",
        "/api/v1/contacts/",
        "/api/v1/contacts/{id}/",
    } <= set(schema["paths"])
    messages = schema["paths"]["/api/v1/conversations/{id}/messages/"]
    assert set(messages) == {"get", "post"}
    assert set(schema["paths"]["/api/v1/conversations/{id}/"]) == {"get", "patch"}
    page = messages["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/MessagePage"}
