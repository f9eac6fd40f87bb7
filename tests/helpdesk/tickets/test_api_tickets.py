"""/api/v1/tickets/: the inbox list (filters, keyset pages), one ticket, edits, merge, tags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from chat.models import Message
from chat.payloads import conversation_summary
from helpdesk.tickets.api.paging import Position, cursor_encode
from helpdesk.tickets.api.shapes import (
    TicketDetailSerializer,
    TicketRefSerializer,
    TicketSummarySerializer,
)
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.payloads import ticket_summary
from tests.chat.api_helpers import messages_in
from tests.factories import AgentFactory, host_of
from tests.helpdesk.api.helpers import (
    OwnerApi,
    assert_error,
    bearer,
    owner_of,
    session_login,
    token_for,
)
from tests.helpdesk.tickets.helpers import (
    conversations_of,
    ticket_in,
    ticket_row,
    ticket_state,
    workspace_state,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/tickets/"
TAGS = "/api/v1/tickets/tags/"
XSS = "<img src=x onerror=alert(1)>"
# Host, token with its agent, the page (tickets with requester and assignee joined); plus
# django-tenants' SET search_path.
LIST_QUERIES_MAX = 6


def detail(ticket_id) -> str:
    return f"/api/v1/tickets/{ticket_id}/"


def merge(ticket_id) -> str:
    return f"/api/v1/tickets/{ticket_id}/merge/"


@pytest.fixture
def api(client, tenant):
    return OwnerApi(client, tenant)


def _numbers(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [t["number"] for t in response.json()["results"]]


def _subjects(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [t["subject"] for t in response.json()["results"]]


# ---- List ----------------------------------------------------------------------------------


def test_the_list_shows_active_tickets_newest_activity_first_as_the_sockets_do(api, tenant):
    older = ticket_in(tenant, name="Ana", subject="Older", age_minutes=30)
    newer = ticket_in(tenant, name="Ben", subject="Newer", age_minutes=5)
    ticket_in(tenant, name="Cleo", subject="Done", status="solved")

    response = api.get(LIST)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"results", "next"}  # no count: it would read the whole table
    assert body["next"] is None
    assert [t["subject"] for t in body["results"]] == ["Newer", "Older"]
    assert body["results"] == [
        ticket_summary(ticket_row(tenant, pk)) for pk in (newer.pk, older.pk)
    ]
    first = body["results"][0]
    assert first["number"] == newer.number
    assert first["requester"] == {
        "id": newer.requester_id,
        "name": "Ben",
        "email": "ben@example.com",
        "verified": False,
        "email_failing": False,
    }
    assert (first["status"], first["channels"], first["assignee"]) == ("new", ["web"], None)


STATUS_FILTERS = [
    ({}, ["New", "Open", "Pending", "On hold"]),
    ({"status": "active"}, ["New", "Open", "Pending", "On hold"]),
    ({"status": "new"}, ["New"]),
    ({"status": "open"}, ["Open"]),
    ({"status": "pending"}, ["Pending"]),
    ({"status": "on_hold"}, ["On hold"]),
    ({"status": "solved"}, ["Solved"]),
    ({"status": "closed"}, ["Closed"]),
    ({"status": "any"}, ["New", "Open", "Pending", "On hold", "Solved", "Closed"]),
]


def test_the_status_filter(api, tenant):
    for n, (subject, status) in enumerate(
        [
            ("New", "new"),
            ("Open", "open"),
            ("Pending", "pending"),
            ("On hold", "on_hold"),
            ("Solved", "solved"),
            ("Closed", "closed"),
        ]
    ):
        ticket_in(tenant, subject=subject, status=status, age_minutes=n)

    for query, subjects in STATUS_FILTERS:
        assert _subjects(api.get(LIST, **query)) == subjects, query


ASSIGNEE_FILTERS = [
    ({"view": "mine"}, ["Mine"]),
    ({"view": "unassigned"}, ["Nobody's"]),
    ({"view": "all"}, ["Mine", "Colleague's", "Nobody's"]),
    ({"assignee": "none"}, ["Nobody's"]),
    ({"assignee": "NONE", "view": "unassigned"}, ["Nobody's"]),
    ({"assignee": "none", "view": "mine"}, []),
    ({"assignee": "{colleague}"}, ["Colleague's"]),
    ({"assignee": "{colleague}", "view": "mine"}, []),
    ({"assignee": "987654"}, []),
]


def test_views_and_the_assignee_filter(api, tenant):
    owner = owner_of(tenant)
    colleague = AgentFactory(tenant=tenant)
    ticket_in(tenant, subject="Mine", assignee=owner, age_minutes=1)
    ticket_in(tenant, subject="Colleague's", assignee=colleague, age_minutes=2)
    ticket_in(tenant, subject="Nobody's", age_minutes=3)

    for query, subjects in ASSIGNEE_FILTERS:
        sent = {k: v.replace("{colleague}", str(colleague.pk)) for k, v in query.items()}
        assert _subjects(api.get(LIST, **sent)) == subjects, query


def test_the_channel_filter(api, tenant):
    ticket_in(tenant, subject="Chat", channel="web", age_minutes=1)
    ticket_in(tenant, subject="Mail", channel="email", age_minutes=2)
    ticket_in(tenant, subject="Both", channel="email", channels=["email", "web"], age_minutes=3)

    assert _subjects(api.get(LIST, channel="web")) == ["Chat", "Both"]
    assert _subjects(api.get(LIST, channel="email")) == ["Mail", "Both"]


def test_the_tag_and_priority_filters(api, tenant):
    ticket_in(tenant, subject="Refund", tags=["refund", "vip"], priority="high", age_minutes=1)
    ticket_in(tenant, subject="Refund too", tags=["refund"], priority="low", age_minutes=2)
    ticket_in(tenant, subject="Other", tags=["shipping"], priority="high", age_minutes=3)

    assert _subjects(api.get(LIST, tag="refund")) == ["Refund", "Refund too"]
    assert _subjects(api.get(LIST, tag=" VIP ")) == ["Refund"]  # tags are stored lower-case
    assert _subjects(api.get(LIST, tag="refun")) == []  # whole tags only
    assert _subjects(api.get(LIST, priority="high")) == ["Refund", "Other"]
    assert _subjects(api.get(LIST, priority="high", tag="refund")) == ["Refund"]


def test_the_requester_filter(api, tenant):
    first = ticket_in(tenant, name="Ana", subject="First", age_minutes=2)
    ticket_in(tenant, contact=first.requester, subject="Again", age_minutes=1)
    ticket_in(tenant, name="Ben", subject="Someone else")

    assert _subjects(api.get(LIST, requester=first.requester_id)) == ["Again", "First"]
    assert _subjects(api.get(LIST, requester=987654)) == []


SEARCHES = [
    ("parcel", ["Lost parcel", "PARCEL damaged"]),
    ("ana@example.com", ["Lost parcel"]),
    ("ANA@EXAMPLE.COM", ["Lost parcel"]),
    ("ana@", []),  # the address is matched whole, not in part
    ("#{number}", ["Refund"]),
    ("{number}", ["Refund"]),
    ("  parcel  ", ["Lost parcel", "PARCEL damaged"]),
    ("' OR 1=1 --", []),
    ('{"$regex": ".*"}', []),
    ("%", []),
    ("", ["Lost parcel", "PARCEL damaged", "Refund"]),
]


def test_search_by_subject_number_or_requester_email(api, tenant):
    ticket_in(tenant, name="Ana", subject="Lost parcel", age_minutes=1)
    ticket_in(tenant, name="Ben", subject="PARCEL damaged", age_minutes=2)
    refund = ticket_in(tenant, name="Cleo", subject="Refund", age_minutes=3)

    for q, subjects in SEARCHES:
        response = api.get(LIST, q=q.replace("{number}", str(refund.number)))
        assert _subjects(response) == subjects, q


def test_sorting(api, tenant):
    now = timezone.now()
    for subject, created, active in [("A", 30, 20), ("B", 20, 1), ("C", 10, 5)]:
        ticket_in(
            tenant,
            subject=subject,
            created_at=now - timedelta(minutes=created),
            last_activity_at=now - timedelta(minutes=active),
        )

    assert _subjects(api.get(LIST, sort="-last_activity_at")) == ["B", "C", "A"]
    assert _subjects(api.get(LIST, sort="last_activity_at")) == ["A", "C", "B"]
    assert _subjects(api.get(LIST, sort="-created_at")) == ["C", "B", "A"]
    assert _subjects(api.get(LIST, sort="created_at")) == ["A", "B", "C"]


def test_merged_tickets_are_left_out_of_the_list(api, tenant):
    target = ticket_in(tenant, subject="Target", age_minutes=2)
    source = ticket_in(tenant, subject="Source", age_minutes=1)
    assert api.post(merge(target.pk), {"source_id": source.pk}).status_code == 200

    assert _subjects(api.get(LIST, status="any")) == ["Target"]


BAD_FILTERS = [
    ({"view": "everyone"}, "view"),
    ({"status": "archived"}, "status"),
    ({"status": "open' OR 1=1 --"}, "status"),
    ({"status": '{"$ne": null}'}, "status"),
    ({"channel": "sms"}, "channel"),
    ({"assignee": "abc"}, "assignee"),
    ({"assignee": "0"}, "assignee"),
    ({"assignee": "-1"}, "assignee"),
    ({"assignee": "99999999999999999999"}, "assignee"),
    ({"tag": "<script>"}, "tag"),
    ({"tag": "two words"}, "tag"),
    ({"tag": "x" * 51}, "tag"),
    ({"priority": "critical"}, "priority"),
    ({"requester": "abc"}, "requester"),
    ({"requester": "0"}, "requester"),
    ({"q": "x" * 201}, "q"),
    ({"sort": "subject"}, "sort"),
    ({"sort": "-id; DROP TABLE tickets_ticket"}, "sort"),
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "eyJzIjoxfQ"}, "cursor"),  # base64 of {"s":1}
]


def test_unknown_filter_values_are_a_400_naming_the_parameter(api, tenant):
    ticket_in(tenant)

    for query, field in BAD_FILTERS:
        error = assert_error(api.get(LIST, **query), 400, "invalid")
        assert list(error["details"]) == [field], query


def test_the_tag_filter_refusal_says_why(api, tenant):
    error = assert_error(api.get(LIST, tag="<script>"), 400, "invalid")

    assert "not a usable tag" in error["details"]["tag"][0]["message"]


def test_operator_shaped_parameters_are_not_interpreted(api, tenant):
    ticket_in(tenant, subject="A", age_minutes=1)
    ticket_in(tenant, subject="B", age_minutes=2)

    response = api.get(LIST + "?status[$ne]=x&assignee[$gt]=0")

    assert _subjects(response) == ["A", "B"]


# ---- Pages ---------------------------------------------------------------------------------


def _all_pages(api, **query) -> list[list[str]]:
    pages = []
    response = api.get(LIST, **query)
    while True:
        pages.append(_subjects(response))
        following = response.json()["next"]
        if following is None:
            return pages
        response = api.get(following)


def test_pages_follow_next_with_the_same_filters(api, tenant):
    for n in range(5):
        ticket_in(tenant, subject=f"T{n}", tags=["vip"], age_minutes=n)
    ticket_in(tenant, subject="Not vip", age_minutes=2.5)

    first = api.get(LIST, tag="vip", limit=2).json()

    assert "tag=vip" in first["next"] and "limit=2" in first["next"]
    assert first["next"].startswith("http://acme.")
    assert _all_pages(api, tag="vip", limit=2) == [["T0", "T1"], ["T2", "T3"], ["T4"]]


@pytest.mark.parametrize("sort", ["-last_activity_at", "last_activity_at", "created_at"])
def test_tickets_with_the_same_time_are_each_listed_once(api, tenant, sort):
    same = timezone.now() - timedelta(minutes=5)
    made = [
        ticket_in(tenant, subject=f"T{n}", last_activity_at=same, created_at=same) for n in range(7)
    ]

    pages = _all_pages(api, sort=sort, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    listed = [subject for page in pages for subject in page]
    by_id = [f"T{n}" for n in range(7)]  # ids break the tie, in the sort's direction
    assert listed == (by_id[::-1] if sort.startswith("-") else by_id)
    assert len(made) == 7


def test_a_ticket_moving_to_the_top_while_paging_shifts_nothing(api, tenant):
    tickets = [ticket_in(tenant, subject=f"T{n}", age_minutes=n + 1) for n in range(4)]
    first = api.get(LIST, limit=2).json()
    # The customer of T3 writes: it jumps to the top, past the page already read.
    messages_in(tenant, conversations_of(tenant, tickets[3].pk)[0], ["Any news?"])
    ticket_in(tenant, subject="Brand new")

    second = api.get(first["next"]).json()

    assert [t["subject"] for t in first["results"]] == ["T0", "T1"]
    assert [t["subject"] for t in second["results"]] == ["T2"]
    assert second["next"] is None


def test_a_cursor_of_another_sort_is_refused(api, tenant):
    for n in range(3):
        ticket_in(tenant, subject=f"T{n}", age_minutes=n)
    following = api.get(LIST, limit=1).json()["next"]

    response = api.get(following + "&sort=created_at")

    error = assert_error(response, 400, "invalid")
    assert list(error["details"]) == ["cursor"]


def test_a_cursor_without_a_time_zone_is_refused(api, tenant):
    ticket_in(tenant)
    naive = Position(sort="-last_activity_at", value=timezone.now().replace(tzinfo=None), pk=1)

    error = assert_error(api.get(LIST, cursor=cursor_encode(naive)), 400, "invalid")

    assert list(error["details"]) == ["cursor"]


def test_list_query_count_does_not_grow_with_the_tickets(
    client, tenant, django_assert_max_num_queries
):
    host = host_of(tenant)
    owner = owner_of(tenant)
    agents = [owner, AgentFactory(tenant=tenant), AgentFactory(tenant=tenant)]
    token = token_for(tenant, owner)
    client.get(LIST, HTTP_HOST=host, **bearer(token))  # marks the token used

    def rows(count: int) -> None:
        for n in range(count):
            # A requester and an assignee each: the N+1 the list must not have.
            ticket_in(
                tenant,
                name=f"Row {n}",
                subject=f"Row {n}",
                assignee=agents[n % 3] if n % 4 else None,
            )

    def listed(query: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST + query, HTTP_HOST=host, **bearer(token))
        assert response.status_code == 200, response.content
        return len(response.json()["results"]), len(queries)

    rows(3)
    with django_assert_max_num_queries(LIST_QUERIES_MAX):
        three, queries_for_three = listed("?limit=200")
    rows(27)
    with django_assert_max_num_queries(LIST_QUERIES_MAX):
        thirty, queries_for_thirty = listed("?limit=200")
    with django_assert_max_num_queries(LIST_QUERIES_MAX):
        page, queries_for_a_page = listed("?limit=10&q=row&view=all&status=active")

    assert (three, thirty, page) == (3, 30, 10)
    assert queries_for_three == queries_for_thirty == queries_for_a_page


def test_an_agent_signed_in_with_a_session_can_use_the_list(client, tenant):
    agent = AgentFactory(tenant=tenant)
    ticket_in(tenant, subject="Hello")
    session_login(client, tenant, agent)

    response = client.get(LIST, HTTP_HOST=host_of(tenant))

    assert _subjects(response) == ["Hello"]


def test_without_credentials_it_is_a_401_and_nothing_changes(client, tenant):
    ticket = ticket_in(tenant)
    before = ticket_state(tenant, ticket.pk)

    assert_error(client.get(LIST, HTTP_HOST=host_of(tenant)), 401, "not_authenticated")
    response = client.patch(
        detail(ticket.pk),
        {"priority": "urgent"},
        content_type="application/json",
        HTTP_HOST=host_of(tenant),
    )
    assert_error(response, 401)
    assert ticket_state(tenant, ticket.pk) == before


# ---- One ticket ----------------------------------------------------------------------------


def test_one_ticket_with_its_conversations_and_linked_tickets(api, tenant):
    ticket = ticket_in(tenant, name="Ana", subject="Lost parcel", tags=["parcel"], age_minutes=9)
    with tenant_context(tenant):
        from chat.services.conversations import conversation_open

        row = Ticket.objects.get(pk=ticket.pk)
        email_thread = conversation_open(contact=row.requester, channel="email", on_ticket=row)
    first_conversation = conversations_of(tenant, ticket.pk)[0]
    messages_in(tenant, first_conversation, ["Where is my parcel?"])
    other = ticket_in(tenant, name="Ana again", subject="Duplicate")
    (merged_conversation,) = conversations_of(tenant, other.pk)
    assert api.post(merge(ticket.pk), {"source_id": other.pk}).status_code == 200
    follow_up = ticket_in(tenant, subject="Follow-up", follow_up_of=ticket)

    response = api.get(detail(ticket.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    row = ticket_row(tenant, ticket.pk)
    assert {k: v for k, v in body.items() if k in ticket_summary(row)} == ticket_summary(row)
    assert [c["id"] for c in body["conversations"]] == [
        first_conversation.pk,
        email_thread.pk,
        merged_conversation.pk,
    ]
    assert body["conversations"] == [
        conversation_summary(c) for c in conversations_of(tenant, ticket.pk)
    ]
    assert body["merged_tickets"] == [{"id": other.pk, "number": other.number, "status": "closed"}]
    assert body["follow_ups"] == [{"id": follow_up.pk, "number": follow_up.number, "status": "new"}]
    assert body["conversations"][0]["last_message_preview"] == "Where is my parcel?"


def test_customer_text_comes_back_verbatim_as_json(api, tenant):
    ticket = ticket_in(tenant, name=XSS, subject=XSS)
    messages_in(tenant, conversations_of(tenant, ticket.pk)[0], [XSS])

    response = api.get(detail(ticket.pk))

    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert (body["subject"], body["requester"]["name"]) == (XSS, XSS)
    assert body["last_message_preview"] == XSS


def test_nonsense_ids_are_json_404s(api, tenant):
    ticket_in(tenant)

    for ticket_id in ["abc", "1.5", "-1", "99999999999999999999999", "0"]:
        assert_error(api.get(detail(ticket_id)), 404, "not_found")


# ---- Edits ---------------------------------------------------------------------------------


def test_status_change_moves_the_conversations_along(api, tenant):
    ticket = ticket_in(tenant)

    response = api.patch(detail(ticket.pk), {"status": "solved"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "solved"
    assert body["solved_at"] is not None
    assert [c["status"] for c in body["conversations"]] == ["resolved"]
    assert ticket_row(tenant, ticket.pk).status == "solved"


def test_on_hold_until_a_time_snoozes_the_conversation_and_answers_in_utc(api, tenant):
    ticket = ticket_in(tenant, status="open")
    until = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    local = until.astimezone(timezone.get_fixed_timezone(120))

    response = api.patch(
        detail(ticket.pk), {"status": "on_hold", "on_hold_until": local.isoformat()}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "on_hold"
    conversation = body["conversations"][0]
    assert conversation["status"] == "snoozed"
    assert conversation["snoozed_until"] == until.isoformat().replace("+00:00", "Z")
    assert conversations_of(tenant, ticket.pk)[0].snoozed_until == until


def test_a_closed_ticket_cannot_be_reopened_and_says_so(api, tenant):
    ticket = ticket_in(tenant, status="closed")
    before = ticket_state(tenant, ticket.pk)

    response = api.patch(detail(ticket.pk), {"status": "open"})

    error = assert_error(response, 400, "invalid")
    assert error["message"] == "A closed ticket can't become open."
    assert error["details"]["non_field_errors"][0]["code"] == "invalid_transition"
    assert ticket_state(tenant, ticket.pk) == before


def test_a_refused_field_leaves_the_accepted_ones_undone(api, tenant):
    colleague = AgentFactory(tenant=tenant)
    ticket = ticket_in(tenant, status="closed")
    before = ticket_state(tenant, ticket.pk)

    response = api.patch(
        detail(ticket.pk),
        {
            "priority": "urgent",
            "assignee_id": colleague.pk,
            "tags": ["vip"],
            "status": "open",
        },
    )

    assert_error(response, 400, "invalid")
    after = ticket_state(tenant, ticket.pk)
    assert after == before
    assert (after["priority"], after["assignee"], after["tags"]) == ("normal", None, [])


def test_a_refused_subject_undoes_the_accepted_changes(api, tenant):
    ticket = ticket_in(tenant, subject="Old subject")
    before = ticket_state(tenant, ticket.pk)

    response = api.patch(
        detail(ticket.pk),
        {"status": "solved", "priority": "urgent", "subject": "Bcc: x\r\nhi"},
    )

    assert_error(response, 400, "invalid")
    assert ticket_state(tenant, ticket.pk) == before


def test_priority_assignee_tags_and_subject_in_one_request(api, tenant):
    colleague = AgentFactory(tenant=tenant, name="Luis")
    ticket = ticket_in(tenant)

    response = api.patch(
        detail(ticket.pk),
        {
            "priority": "high",
            "assignee_id": colleague.pk,
            "tags": ["Refund", "vip", "refund", " ", "größe"],
            "subject": "  Refund   for order 42 ",
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["priority"] == "high"
    assert body["assignee"] == {"id": colleague.pk, "name": "Luis"}
    assert body["tags"] == ["refund", "vip", "größe"]
    assert body["subject"] == "Refund for order 42"
    assert body["conversations"][0]["assignee"] == {"id": colleague.pk, "name": "Luis"}
    assert ticket_summary(ticket_row(tenant, ticket.pk)) == {
        k: v for k, v in body.items() if k not in ("conversations", "follow_ups", "merged_tickets")
    }


def test_unassigning_with_null(api, tenant):
    ticket = ticket_in(tenant, assignee=owner_of(tenant))

    response = api.patch(detail(ticket.pk), {"assignee_id": None})

    assert response.json()["assignee"] is None
    assert ticket_row(tenant, ticket.pk).assignee_id is None
    assert conversations_of(tenant, ticket.pk)[0].assignee_id is None


SERVICE_REFUSALS = [
    ({"tags": ["<script>"]}, "invalid_tag"),
    ({"tags": ["ok", "<img src=x onerror=alert(1)>"]}, "invalid_tag"),
    ({"tags": ["two words"]}, "invalid_tag"),
    ({"tags": ["x" * 51]}, "invalid_tag"),
    ({"tags": [f"t{n}" for n in range(21)]}, "too_many_tags"),
    ({"subject": "Hello\r\nBcc: victim@example.com"}, "subject_newline"),
    ({"subject": "Hello\nworld"}, "subject_newline"),
    ({"status": "closed"}, "invalid_transition"),  # closing comes after solving
    ({"status": "on_hold", "on_hold_until": "2001-01-01T10:00:00+00:00"}, "snooze_range"),
    ({"assignee_id": 987654}, "unknown_agent"),
]


def test_service_refusals_are_a_400_with_their_code_and_change_nothing(api, tenant):
    ticket = ticket_in(tenant, tags=["keep"], subject="Keep")
    before = ticket_state(tenant, ticket.pk)

    for body, code in SERVICE_REFUSALS:
        error = assert_error(api.patch(detail(ticket.pk), body), 400, "invalid")
        assert error["details"]["non_field_errors"][0]["code"] == code, body
        assert ticket_state(tenant, ticket.pk) == before, body


BAD_CHANGES = [
    ({}, "non_field_errors"),
    ({"number": 1, "id": 2}, "non_field_errors"),
    ({"status": "archived"}, "status"),
    ({"status": {"$ne": "open"}}, "status"),
    ({"status": ["solved"]}, "status"),
    ({"status": "on_hold", "on_hold_until": "2099-01-01T10:00:00"}, "on_hold_until"),
    ({"status": "on_hold", "on_hold_until": "tomorrow"}, "on_hold_until"),
    ({"status": "solved", "on_hold_until": "2099-01-01T10:00:00+00:00"}, "on_hold_until"),
    ({"priority": "critical"}, "priority"),
    ({"assignee_id": "abc"}, "assignee_id"),
    ({"assignee_id": True}, "assignee_id"),
    ({"assignee_id": 0}, "assignee_id"),
    ({"assignee_id": {"$gt": 0}}, "assignee_id"),
    ({"tags": "vip"}, "tags"),
    ({"tags": [{"$ne": 1}]}, "tags"),
    ({"subject": ["x"]}, "subject"),
    ({"subject": "x" * 301}, "subject"),
]


def test_invalid_changes_are_a_400_naming_the_field_and_change_nothing(api, tenant):
    ticket = ticket_in(tenant)
    before = ticket_state(tenant, ticket.pk)

    for body, field in BAD_CHANGES:
        error = assert_error(api.patch(detail(ticket.pk), body), 400, "invalid")
        assert field in error["details"], body
        assert ticket_state(tenant, ticket.pk) == before, body


def test_a_deactivated_agent_cannot_be_assigned(api, tenant):
    gone = AgentFactory(tenant=tenant, is_active=False)
    ticket = ticket_in(tenant)

    assert_error(api.patch(detail(ticket.pk), {"assignee_id": gone.pk}), 400, "invalid")
    assert ticket_row(tenant, ticket.pk).assignee_id is None


def test_a_merged_ticket_cannot_be_edited(api, tenant):
    target = ticket_in(tenant)
    source = ticket_in(tenant)
    api.post(merge(target.pk), {"source_id": source.pk})
    before = ticket_state(tenant, source.pk)

    response = api.patch(detail(source.pk), {"priority": "urgent"})

    error = assert_error(response, 400, "invalid")
    assert error["details"]["non_field_errors"][0]["code"] == "ticket_merged"
    assert ticket_state(tenant, source.pk) == before


def test_ids_in_the_body_never_redirect_the_change(api, tenant):
    target = ticket_in(tenant, subject="Target")
    bystander = ticket_in(tenant, subject="Bystander")
    before = ticket_state(tenant, bystander.pk)

    response = api.patch(
        detail(target.pk),
        {
            "priority": "urgent",
            "id": bystander.pk,
            "ticket_id": bystander.pk,
            "number": bystander.number,
            "tenant": "globex",
            "schema_name": "globex",
        },
    )

    assert response.status_code == 200, response.content
    assert response.json()["id"] == target.pk
    assert ticket_row(tenant, target.pk).priority == "urgent"
    assert ticket_state(tenant, bystander.pk) == before


def test_put_and_delete_are_not_offered(client, tenant):
    ticket = ticket_in(tenant)
    headers = {"HTTP_HOST": host_of(tenant), **bearer(token_for(tenant, owner_of(tenant)))}
    before = ticket_state(tenant, ticket.pk)

    put = client.put(
        detail(ticket.pk), {"priority": "high"}, content_type="application/json", **headers
    )
    delete = client.delete(detail(ticket.pk), **headers)

    assert_error(put, 405, "method_not_allowed")
    assert_error(delete, 405, "method_not_allowed")
    assert ticket_state(tenant, ticket.pk) == before


# ---- Merge ---------------------------------------------------------------------------------


def test_merging_moves_the_conversations_and_notes_it_in_both_histories(api, tenant):
    target = ticket_in(tenant, name="Ana", subject="Target", tags=["a"], age_minutes=10)
    source = ticket_in(tenant, name="Ana2", subject="Source", tags=["b"], channel="email")
    (source_conversation,) = conversations_of(tenant, source.pk)
    (target_conversation,) = conversations_of(tenant, target.pk)
    messages_in(tenant, source_conversation, ["Hello again"])

    response = api.post(merge(target.pk), {"source_id": source.pk})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == target.pk
    assert [c["id"] for c in body["conversations"]] == [
        target_conversation.pk,
        source_conversation.pk,
    ]
    assert body["merged_tickets"] == [
        {"id": source.pk, "number": source.number, "status": "closed"}
    ]
    assert (body["tags"], sorted(body["channels"])) == (["a", "b"], ["email", "web"])
    assert body["unread_count"] == 1
    assert body["last_message_preview"] == "Hello again"
    merged = ticket_row(tenant, source.pk)
    assert (merged.status, merged.merged_into_id) == ("closed", target.pk)
    note = f"Ticket #{source.number} was merged into #{target.number} by Olivia Owner."
    with tenant_context(tenant):
        notes = list(
            Message.objects.filter(body=note).values_list("conversation_id", "is_internal")
        )
    assert notes == [(source_conversation.pk, True)]


@pytest.mark.parametrize("case", ["itself", "already merged", "into a merged one", "closed"])
def test_refused_merges_are_a_400_and_change_nothing(api, tenant, case):
    target = ticket_in(tenant, subject="Target")
    source = ticket_in(tenant, subject="Source")
    third = ticket_in(tenant, subject="Third")
    if case == "itself":
        source = target
    elif case == "already merged":
        api.post(merge(third.pk), {"source_id": source.pk})
    elif case == "into a merged one":
        api.post(merge(third.pk), {"source_id": target.pk})
    else:
        with tenant_context(tenant):
            Ticket.objects.filter(pk=target.pk).update(status="closed")
    before = workspace_state(tenant)

    response = api.post(merge(target.pk), {"source_id": source.pk})

    error = assert_error(response, 400, "invalid")
    code = error["details"]["non_field_errors"][0]["code"]
    assert (
        code
        == {
            "itself": "same_ticket",
            "already merged": "ticket_merged",
            "into a merged one": "ticket_merged",
            "closed": "target_closed",
        }[case]
    )
    assert workspace_state(tenant) == before


def test_a_merge_without_a_usable_source_is_a_400(api, tenant):
    target = ticket_in(tenant)
    ticket_in(tenant)
    before = workspace_state(tenant)

    for body in [{}, {"source_id": "abc"}, {"source_id": 0}, {"source_id": [1]}]:
        error = assert_error(api.post(merge(target.pk), body), 400, "invalid")
        assert "source_id" in error["details"], body
    assert workspace_state(tenant) == before


def test_a_missing_source_is_a_404_and_changes_nothing(api, tenant):
    target = ticket_in(tenant)
    before = workspace_state(tenant)

    assert_error(api.post(merge(target.pk), {"source_id": 987654}), 404, "not_found")
    assert workspace_state(tenant) == before


# ---- Tags ----------------------------------------------------------------------------------


def test_tags_in_use_alphabetical_once_each(api, tenant):
    ticket_in(tenant, tags=["vip", "refund"])
    ticket_in(tenant, tags=["refund", "shipping"], status="closed")
    ticket_in(tenant)

    response = api.get(TAGS)

    assert response.status_code == 200, response.content
    assert response.json() == {"tags": ["refund", "shipping", "vip"]}


# ---- Cross-tenant -------------------------------------------------------------------------


def test_the_same_id_in_two_workspaces_reads_only_the_callers_own(api, tenant, other_tenant):
    mine = ticket_in(tenant, subject="Mine", tags=["ours"])
    theirs = ticket_in(other_tenant, subject="Theirs", tags=["theirs"])
    assert (mine.pk, mine.number) == (theirs.pk, theirs.number)  # cloned schemas: ids line up

    one = api.get(detail(mine.pk)).json()
    listed = api.get(LIST, status="any").json()
    tags = api.get(TAGS).json()

    assert one["subject"] == "Mine"
    assert [t["subject"] for t in listed["results"]] == ["Mine"]
    assert _subjects(api.get(LIST, q=f"#{theirs.number}")) == ["Mine"]
    assert tags == {"tags": ["ours"]}


def test_another_workspaces_ticket_is_404_like_a_missing_one_and_stays_unchanged(
    api, tenant, other_tenant
):
    mine = ticket_in(tenant)
    for n in range(3):
        theirs = ticket_in(other_tenant, subject=f"Theirs {n}")
    other_source = ticket_in(other_tenant)
    before_theirs = workspace_state(other_tenant)
    before_mine = workspace_state(tenant)

    responses = {
        "get": api.get(detail(theirs.pk)),
        "patch": api.patch(detail(theirs.pk), {"status": "solved", "priority": "urgent"}),
        "merge into theirs": api.post(merge(theirs.pk), {"source_id": mine.pk}),
        # Both ids exist here only in the other workspace.
        "merge theirs into theirs": api.post(merge(theirs.pk), {"source_id": other_source.pk}),
    }
    # A source id that exists only in the other workspace, merged into a ticket of ours.
    from_theirs = api.post(merge(mine.pk), {"source_id": other_source.pk})
    missing = api.get(detail(987654))

    for response in [*responses.values(), from_theirs]:
        assert_error(response, 404, "not_found")
        assert response.content == missing.content
    assert workspace_state(other_tenant) == before_theirs
    assert workspace_state(tenant) == before_mine


def test_the_other_workspace_keeps_its_state_when_the_same_id_is_changed_here(
    api, tenant, other_tenant
):
    mine = ticket_in(tenant)
    mine_source = ticket_in(tenant)
    theirs = ticket_in(other_tenant)
    ticket_in(other_tenant)
    assert mine.pk == theirs.pk
    before = workspace_state(other_tenant)

    api.patch(detail(mine.pk), {"status": "solved", "priority": "urgent", "tags": ["x"]})
    api.post(merge(mine.pk), {"source_id": mine_source.pk})

    assert ticket_row(tenant, mine.pk).priority == "urgent"
    assert ticket_row(tenant, mine_source.pk).merged_into_id == mine.pk
    assert workspace_state(other_tenant) == before


# ---- The schema documents the payloads exactly --------------------------------------------


def test_the_documented_fields_are_exactly_the_payloads_keys(api, tenant):
    ticket = ticket_in(tenant, assignee=owner_of(tenant))
    body = api.get(detail(ticket.pk)).json()

    summary = ticket_summary(ticket_row(tenant, ticket.pk))
    assert set(TicketSummarySerializer().fields) == set(summary)
    assert set(TicketSummarySerializer().fields["requester"].fields) == set(summary["requester"])
    assert set(TicketDetailSerializer().fields) == set(body)
    assert set(TicketRefSerializer().fields) == {"id", "number", "status"}


def test_the_ticket_endpoints_are_in_the_openapi_schema(client, tenant):
    schema = client.get("/api/schema/?format=json", HTTP_HOST=host_of(tenant)).json()

    paths = schema["paths"]
    assert set(paths["/api/v1/tickets/"]) == {"get"}
    assert set(paths["/api/v1/tickets/{id}/"]) == {"get", "patch"}
    assert set(paths["/api/v1/tickets/{id}/merge/"]) == {"post"}
    assert set(paths["/api/v1/tickets/tags/"]) == {"get"}
    assert set(paths["/api/v1/tickets/{id}/messages/"]) == {"get", "post"}
    assert set(paths["/api/v1/contacts/{id}/merge/"]) == {"post"}
    listing = paths["/api/v1/tickets/"]["get"]
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/TicketPage"}
    parameters = {p["name"] for p in listing["parameters"]}
    assert {
        "view",
        "status",
        "channel",
        "assignee",
        "tag",
        "priority",
        "requester",
        "q",
        "sort",
        "limit",
        "cursor",
    } <= parameters
    assert "offset" not in parameters
    assert set(schema["components"]["schemas"]["TicketPage"]["properties"]) == {
        "results",
        "next",
    }
