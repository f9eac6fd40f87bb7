"""/api/v1/tickets/{id}/messages/: one timeline across a ticket's conversations, and replies."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from chat.models import Attachment, Conversation, EmailMessage, Message
from chat.payloads import message_payload
from chat.services.conversations import conversation_open
from chat.services.messages import message_create
from helpdesk.tickets.api.shapes import EmailSideSerializer, TicketMessageSerializer
from helpdesk.tickets.models import Ticket
from tests.chat.api_helpers import conversation_row, message_rows, messages_in
from tests.factories import AgentFactory, host_of
from tests.helpdesk.api.helpers import OwnerApi, assert_error, bearer, owner_of, token_for
from tests.helpdesk.tickets.helpers import conversations_of, ticket_in, ticket_row, workspace_state

pytestmark = pytest.mark.django_db

XSS = "<img src=x onerror=alert(1)>"
# Host, token with its agent, ticket, messages (with author, mail side, conversation and
# contact joined), their attachments; plus django-tenants' SET search_path.
LIST_QUERIES_MAX = 7


def messages_url(ticket_id) -> str:
    return f"/api/v1/tickets/{ticket_id}/messages/"


@pytest.fixture
def api(client, tenant):
    return OwnerApi(client, tenant)


def _bodies(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [m["body"] for m in response.json()["results"]]


def _second_thread(tenant, ticket, *, channel="email") -> Conversation:
    """Another conversation of the same ticket (the customer also wrote by email)."""
    with tenant_context(tenant):
        row = Ticket.objects.select_related("requester").get(pk=ticket.pk)
        conversation = conversation_open(contact=row.requester, channel=channel, on_ticket=row)
    return conversation


def _mail_side(tenant, message) -> EmailMessage:
    with tenant_context(tenant):
        return EmailMessage.objects.create(
            message=message,
            direction=EmailMessage.Direction.INBOUND,
            message_id_header=f"<{uuid.uuid4().hex}@mail.example>",
            from_address="ana@example.com",
            from_name="Ana",
            to=["acme@mail.localhost"],
            subject="Lost parcel",
            quoted_text="> earlier",
        )


def _attachment(tenant, conversation, *, kind="agent", message=None) -> Attachment:
    with tenant_context(tenant):
        return Attachment.objects.create(
            conversation=conversation,
            message=message,
            file=f"attachments/{conversation.pk}/{uuid.uuid4().hex}",
            name="receipt.pdf",
            content_type="application/pdf",
            size=1234,
            uploaded_by_kind=kind,
        )


# ---- Reading -------------------------------------------------------------------------------


def test_messages_of_every_conversation_in_time_order_with_their_channel(api, tenant):
    owner = owner_of(tenant)
    ticket = ticket_in(tenant, name="Ana")
    (chat,) = conversations_of(tenant, ticket.pk)
    mail = _second_thread(tenant, ticket)
    messages_in(tenant, chat, ["chat 1"])
    (by_mail,) = messages_in(tenant, mail, ["mail 1"])
    _mail_side(tenant, by_mail)
    with tenant_context(tenant):
        message_create(
            conversation=chat,
            sender_kind="agent",
            sender_agent=owner,
            body="note",
            is_internal=True,
        )
    messages_in(tenant, mail, ["mail 2"], kind="agent", agent=owner)

    response = api.get(messages_url(ticket.pk))

    assert _bodies(response) == ["chat 1", "mail 1", "note", "mail 2"]
    body = response.json()
    assert body["older_available"] is False
    with tenant_context(tenant):
        stored = Message.objects.select_related("conversation").order_by("created_at", "pk")
        expected = [
            {
                **message_payload(m, contact_name="Ana", for_agent=True),
                "channel": m.conversation.channel,
            }
            for m in stored
        ]
    assert body["results"] == expected
    items = body["results"]
    assert [(m["conversation_id"], m["channel"]) for m in items] == [
        (chat.pk, "web"),
        (mail.pk, "email"),
        (chat.pk, "web"),
        (mail.pk, "email"),
    ]
    assert items[2]["is_internal"] is True
    assert items[0]["email"] is None
    assert items[1]["email"]["from"] == {"address": "ana@example.com", "name": "Ana"}
    assert (items[1]["email"]["direction"], items[1]["email"]["quoted_text"]) == ("in", "> earlier")


def test_the_newest_page_first_then_before_pages_back(api, tenant):
    ticket = ticket_in(tenant)
    (chat,) = conversations_of(tenant, ticket.pk)
    mail = _second_thread(tenant, ticket)
    stored = []
    for n in range(1, 8):
        stored += messages_in(tenant, chat if n % 2 else mail, [f"m{n}"])

    newest = api.get(messages_url(ticket.pk), limit=3)
    before = api.get(messages_url(ticket.pk), limit=3, before=newest.json()["results"][0]["id"])
    first = api.get(messages_url(ticket.pk), limit=3, before=stored[1].pk)

    assert _bodies(newest) == ["m5", "m6", "m7"]
    assert newest.json()["older_available"] is True
    assert _bodies(before) == ["m2", "m3", "m4"]
    assert before.json()["older_available"] is True
    assert _bodies(first) == ["m1"]
    assert first.json()["older_available"] is False


def test_messages_at_the_same_instant_page_by_id(api, tenant):
    ticket = ticket_in(tenant)
    (chat,) = conversations_of(tenant, ticket.pk)
    mail = _second_thread(tenant, ticket)
    stored = messages_in(tenant, chat, ["a", "b"]) + messages_in(tenant, mail, ["c", "d"])
    with tenant_context(tenant):
        Message.objects.update(created_at=timezone.now() - timedelta(minutes=1))

    newest = api.get(messages_url(ticket.pk), limit=2)
    older = api.get(messages_url(ticket.pk), limit=2, before=stored[2].pk)

    assert _bodies(newest) == ["c", "d"]
    assert _bodies(older) == ["a", "b"]


def test_a_merged_tickets_messages_show_on_the_target(api, tenant):
    target = ticket_in(tenant, name="Ana")
    source = ticket_in(tenant, name="Ana")
    messages_in(tenant, conversations_of(tenant, target.pk)[0], ["in target"])
    messages_in(tenant, conversations_of(tenant, source.pk)[0], ["in source"])
    api.post(f"/api/v1/tickets/{target.pk}/merge/", {"source_id": source.pk})

    target_bodies = _bodies(api.get(messages_url(target.pk)))

    assert target_bodies[:2] == ["in target", "in source"]
    assert target_bodies[2].startswith(f"Ticket #{source.number} was merged into")
    assert _bodies(api.get(messages_url(source.pk))) == []


BAD_PAGING = [
    ({"before": "abc"}, "before"),
    ({"before": "0"}, "before"),
    ({"before": "1; DROP TABLE chat_message"}, "before"),
    ({"before": "987654"}, "before"),
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
]


def test_bad_paging_parameters_are_a_400(api, tenant):
    ticket = ticket_in(tenant)
    messages_in(tenant, conversations_of(tenant, ticket.pk)[0], ["hi"])

    for query, field in BAD_PAGING:
        error = assert_error(api.get(messages_url(ticket.pk), **query), 400, "invalid")
        assert list(error["details"]) == [field], query


def test_before_must_be_a_message_of_this_ticket(api, tenant):
    ticket = ticket_in(tenant)
    other = ticket_in(tenant)
    messages_in(tenant, conversations_of(tenant, ticket.pk)[0], ["mine"])
    (elsewhere,) = messages_in(tenant, conversations_of(tenant, other.pk)[0], ["elsewhere"])

    error = assert_error(api.get(messages_url(ticket.pk), before=elsewhere.pk), 400, "invalid")

    assert error["details"]["before"][0]["code"] == "unknown_message"


def test_message_list_query_count_does_not_grow_with_the_messages(
    client, tenant, django_assert_max_num_queries
):
    host = host_of(tenant)
    owner = owner_of(tenant)
    colleague = AgentFactory(tenant=tenant)
    token = token_for(tenant, owner)
    ticket = ticket_in(tenant)
    (chat,) = conversations_of(tenant, ticket.pk)
    mail = _second_thread(tenant, ticket)
    client.get(messages_url(ticket.pk), HTTP_HOST=host, **bearer(token))  # token used

    def add(count: int) -> None:
        for n in range(count):
            # Customer and agent authors, mail sides, attachments, two conversations: the
            # N+1s to rule out.
            author = [None, owner, colleague][n % 3]
            kind = "customer" if author is None else "agent"
            conversation = [chat, mail][n % 2]
            (message,) = messages_in(tenant, conversation, [f"m{n}"], kind=kind, agent=author)
            _attachment(tenant, conversation, kind=kind, message=message)
            if conversation is mail:
                _mail_side(tenant, message)

    def listed() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                messages_url(ticket.pk) + "?limit=200", HTTP_HOST=host, **bearer(token)
            )
        results = response.json()["results"]
        assert all(len(m["attachments"]) == 1 for m in results)
        assert any(m["email"] for m in results)
        return len(results), len(queries)

    add(3)
    with django_assert_max_num_queries(LIST_QUERIES_MAX):
        three, queries_for_three = listed()
    add(27)
    with django_assert_max_num_queries(LIST_QUERIES_MAX):
        thirty, queries_for_thirty = listed()

    assert (three, thirty) == (3, 30)
    assert queries_for_three == queries_for_thirty


def test_message_text_comes_back_verbatim_as_json(api, tenant):
    ticket = ticket_in(tenant, name=XSS)
    messages_in(tenant, conversations_of(tenant, ticket.pk)[0], [XSS])

    response = api.get(messages_url(ticket.pk))

    assert response["Content-Type"].startswith("application/json")
    assert response.json()["results"][0]["body"] == XSS
    assert response.json()["results"][0]["author"]["name"] == XSS


# ---- Writing -------------------------------------------------------------------------------


def test_a_reply_goes_to_the_most_recently_active_conversation(api, tenant):
    ticket = ticket_in(tenant, name="Ana")
    (chat,) = conversations_of(tenant, ticket.pk)
    later = _second_thread(tenant, ticket, channel="web")
    messages_in(tenant, chat, ["Where is my order?"])

    response = api.post(
        messages_url(ticket.pk), {"body": "It ships today.", "client_message_id": "a-1"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["conversation_id"], body["channel"]) == (chat.pk, "web")
    assert (body["sender_kind"], body["author"]["name"]) == ("agent", "Olivia Owner")
    assert (body["seq"], body["is_internal"], body["client_message_id"]) == (2, False, "a-1")
    assert body["email"] is None
    assert message_rows(tenant, chat.pk)[-1] == (chat.pk, 2, "agent", "It ships today.", False)
    assert message_rows(tenant, later.pk) == []
    row = ticket_row(tenant, ticket.pk)
    assert (row.status, row.unread_count, row.last_message_preview) == (
        "open",
        0,
        "It ships today.",
    )


def test_a_reply_in_a_chosen_conversation(api, tenant):
    ticket = ticket_in(tenant)
    (chat,) = conversations_of(tenant, ticket.pk)
    second = _second_thread(tenant, ticket, channel="web")
    messages_in(tenant, second, ["newer"])

    response = api.post(messages_url(ticket.pk), {"body": "Here", "conversation_id": chat.pk})

    assert response.status_code == 201, response.content
    assert response.json()["conversation_id"] == chat.pk
    assert message_rows(tenant, chat.pk) == [(chat.pk, 1, "agent", "Here", False)]


def test_a_reply_in_an_email_conversation_is_queued_as_a_mail(api, tenant):
    ticket = ticket_in(tenant, name="Ana", channel="email", subject="Lost parcel")
    (mail,) = conversations_of(tenant, ticket.pk)
    messages_in(tenant, mail, ["Where is it?"])

    response = api.post(messages_url(ticket.pk), {"body": "On its way."})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["channel"] == "email"
    assert body["email"]["direction"] == "out"
    assert body["email"]["to"] == ["ana@example.com"]
    assert body["email"]["delivery_status"] == "queued"
    with tenant_context(tenant):
        assert EmailMessage.objects.get(message_id=body["id"]).direction == "out"


def test_an_internal_note_in_an_email_conversation_sends_no_mail(api, tenant):
    ticket = ticket_in(tenant, channel="email")
    (mail,) = conversations_of(tenant, ticket.pk)
    messages_in(tenant, mail, ["Hi"])

    response = api.post(messages_url(ticket.pk), {"body": "Refund approved", "is_internal": True})

    assert response.status_code == 201, response.content
    assert (response.json()["is_internal"], response.json()["email"]) == (True, None)
    with tenant_context(tenant):
        assert not EmailMessage.objects.filter(message_id=response.json()["id"]).exists()
    assert conversation_row(tenant, mail.pk).last_message_preview == "Hi"


def test_a_repeated_client_message_id_returns_the_stored_message(api, tenant):
    ticket = ticket_in(tenant)
    (chat,) = conversations_of(tenant, ticket.pk)

    first = api.post(messages_url(ticket.pk), {"body": "Hello", "client_message_id": "r-1"})
    retry = api.post(messages_url(ticket.pk), {"body": "Hello", "client_message_id": "r-1"})

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert len(message_rows(tenant, chat.pk)) == 1


def test_an_own_upload_is_attached_and_anyone_elses_is_refused(api, tenant):
    ticket = ticket_in(tenant)
    (chat,) = conversations_of(tenant, ticket.pk)
    other = conversations_of(tenant, ticket_in(tenant).pk)[0]
    mine = _attachment(tenant, chat)
    elsewhere = _attachment(tenant, other)

    refused = api.post(messages_url(ticket.pk), {"body": "x", "attachments": [str(elsewhere.pk)]})
    sent = api.post(messages_url(ticket.pk), {"body": "", "attachments": [str(mine.pk)]})

    assert_error(refused, 400, "invalid")
    assert sent.status_code == 201, sent.content
    assert [a["id"] for a in sent.json()["attachments"]] == [str(mine.pk)]
    with tenant_context(tenant):
        assert Attachment.objects.get(pk=elsewhere.pk).message_id is None
    assert [row[1] for row in message_rows(tenant, chat.pk)] == [1]


BAD_MESSAGES = [
    {"body": "   "},
    {},
    {"body": "x" * 10_001},
    {"body": {"$ne": ""}},
    {"body": ["hi"]},
    {"body": "hi", "client_message_id": "bad id; DROP TABLE"},
    {"body": "hi", "client_message_id": ""},
    {"body": "hi", "is_internal": {"$ne": False}},
    {"body": "hi", "attachments": "not-a-list"},
    {"body": "hi", "attachments": ["not-a-uuid"]},
    {"body": "hi", "attachments": [str(uuid.uuid4())]},
    {"body": "hi", "conversation_id": "abc"},
    {"body": "hi", "conversation_id": 0},
    {"body": "hi", "conversation_id": 987654},
]


def test_invalid_messages_are_a_400_and_nothing_is_stored(api, tenant):
    ticket = ticket_in(tenant)
    before = workspace_state(tenant)

    for body in BAD_MESSAGES:
        assert_error(api.post(messages_url(ticket.pk), body), 400, "invalid")
        assert workspace_state(tenant) == before, body


def test_a_conversation_of_another_ticket_is_refused(api, tenant):
    ticket = ticket_in(tenant)
    other = ticket_in(tenant)
    (elsewhere,) = conversations_of(tenant, other.pk)
    before = workspace_state(tenant)

    response = api.post(
        messages_url(ticket.pk), {"body": "Wrong place", "conversation_id": elsewhere.pk}
    )

    error = assert_error(response, 400, "invalid")
    assert error["details"]["conversation_id"][0]["code"] == "unknown_conversation"
    assert workspace_state(tenant) == before


def test_a_merged_ticket_has_nowhere_to_write(api, tenant):
    target = ticket_in(tenant)
    source = ticket_in(tenant)
    api.post(f"/api/v1/tickets/{target.pk}/merge/", {"source_id": source.pk})
    before = workspace_state(tenant)

    error = assert_error(api.post(messages_url(source.pk), {"body": "Hi"}), 400, "invalid")

    assert error["details"]["non_field_errors"][0]["code"] == "no_conversation"
    assert workspace_state(tenant) == before


def test_ids_in_the_body_never_redirect_the_message(api, tenant):
    target = ticket_in(tenant)
    bystander = ticket_in(tenant)
    (chat,) = conversations_of(tenant, target.pk)

    response = api.post(
        messages_url(target.pk),
        {
            "body": "For the target",
            "ticket_id": bystander.pk,
            "sender_kind": "customer",
            "tenant": "globex",
            "schema_name": "globex",
        },
    )

    assert response.status_code == 201, response.content
    assert message_rows(tenant) == [(chat.pk, 1, "agent", "For the target", False)]


# ---- Cross-tenant -------------------------------------------------------------------------


def test_the_same_ticket_id_shows_only_the_callers_messages(api, tenant, other_tenant):
    mine = ticket_in(tenant)
    theirs = ticket_in(other_tenant)
    assert mine.pk == theirs.pk
    messages_in(tenant, conversations_of(tenant, mine.pk)[0], ["ours"])
    messages_in(other_tenant, conversations_of(other_tenant, theirs.pk)[0], ["theirs"])

    assert _bodies(api.get(messages_url(mine.pk))) == ["ours"]


def test_another_workspaces_ticket_is_404_and_gets_no_message(api, tenant, other_tenant):
    mine = ticket_in(tenant)
    for _ in range(3):
        theirs = ticket_in(other_tenant)
    (their_conversation,) = conversations_of(other_tenant, theirs.pk)
    messages_in(other_tenant, their_conversation, ["private"])
    before_theirs, before_mine = workspace_state(other_tenant), workspace_state(tenant)

    read = api.get(messages_url(theirs.pk))
    write = api.post(messages_url(theirs.pk), {"body": "hijack", "client_message_id": "x-1"})
    missing = api.get(messages_url(987654))
    # Their conversation id, named in a reply on our own ticket.
    aimed = api.post(
        messages_url(mine.pk), {"body": "hijack", "conversation_id": their_conversation.pk}
    )

    assert_error(read, 404, "not_found")
    assert_error(write, 404, "not_found")
    assert read.content == write.content == missing.content
    assert_error(aimed, 400, "invalid")
    assert workspace_state(other_tenant) == before_theirs
    assert workspace_state(tenant) == before_mine


# ---- The schema documents the payloads exactly --------------------------------------------


def test_the_documented_fields_are_exactly_the_payloads_keys(api, tenant):
    ticket = ticket_in(tenant, channel="email")
    (mail,) = conversations_of(tenant, ticket.pk)
    (message,) = messages_in(tenant, mail, ["hi"])
    _mail_side(tenant, message)

    item = api.get(messages_url(ticket.pk)).json()["results"][0]

    assert set(TicketMessageSerializer().fields) == set(item)
    assert set(EmailSideSerializer().fields) == set(item["email"])
