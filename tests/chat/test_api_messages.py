"""/api/v1/conversations/{id}/messages/: history pages, replay after a reconnect, and replies."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from chat.models import Attachment, Message
from chat.payloads import message_payload
from chat.services.messages import message_create
from tests.chat.api_helpers import conversation_in, conversation_row, message_rows, messages_in
from tests.chat.widget_client import client_id, frames_until, of_type, send, visitor_open
from tests.factories import AgentFactory, host_of
from tests.helpdesk.api.helpers import OwnerApi, assert_error, bearer, owner_of, token_for
from tests.helpdesk.realtime.wsclient import run

XSS = "<img src=x onerror=alert(1)>"
# Host, token with its agent, conversation, messages, their attachments; plus SET search_path.
LIST_QUERIES_MAX = 10


def messages_url(conversation_id) -> str:
    return f"/api/v1/conversations/{conversation_id}/messages/"


@pytest.fixture
def api(client, tenant):
    return OwnerApi(client, tenant)


def _bodies(response) -> list[str]:
    return [m["body"] for m in response.json()["results"]]


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


@pytest.mark.django_db
def test_without_a_seq_the_newest_fifty_come_oldest_first(api, tenant):
    conversation = conversation_in(tenant, name="Ana")
    messages_in(tenant, conversation, [f"m{n}" for n in range(1, 56)])

    response = api.get(messages_url(conversation.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert _bodies(response) == [f"m{n}" for n in range(6, 56)]
    assert body["older_available"] is True
    assert body["newer_available"] is False


@pytest.mark.django_db
def test_items_are_the_agent_socket_payloads_with_internal_notes(api, tenant):
    owner = owner_of(tenant)
    conversation = conversation_in(tenant, name="Ana")
    messages_in(tenant, conversation, ["Where is my order?"])
    with tenant_context(tenant):
        message_create(
            conversation=conversation,
            sender_kind="agent",
            sender_agent=owner,
            body="VIP customer",
            is_internal=True,
        )
        stored = list(Message.objects.filter(conversation=conversation).order_by("seq"))
        expected = [message_payload(m, contact_name="Ana", for_agent=True) for m in stored]

    response = api.get(messages_url(conversation.pk))

    assert response.json()["results"] == expected
    note = response.json()["results"][1]
    assert (note["is_internal"], note["author"]["name"]) == (True, "Olivia Owner")
    assert response.json()["older_available"] is False


@pytest.mark.django_db
def test_after_seq_replays_what_a_reconnecting_client_missed(api, tenant):
    conversation = conversation_in(tenant)
    messages_in(tenant, conversation, [f"m{n}" for n in range(1, 8)])

    missed = api.get(messages_url(conversation.pk), after_seq=4)
    capped = api.get(messages_url(conversation.pk), after_seq=0, limit=3)
    nothing_new = api.get(messages_url(conversation.pk), after_seq=7)

    assert _bodies(missed) == ["m5", "m6", "m7"]
    assert (missed.json()["older_available"], missed.json()["newer_available"]) == (True, False)
    assert _bodies(capped) == ["m1", "m2", "m3"]
    assert (capped.json()["older_available"], capped.json()["newer_available"]) == (False, True)
    assert nothing_new.json() == {"results": [], "older_available": True, "newer_available": False}


@pytest.mark.django_db
def test_before_seq_pages_back_oldest_first(api, tenant):
    conversation = conversation_in(tenant)
    messages_in(tenant, conversation, [f"m{n}" for n in range(1, 8)])

    page = api.get(messages_url(conversation.pk), before_seq=5, limit=2)
    first = api.get(messages_url(conversation.pk), before_seq=3, limit=2)

    assert _bodies(page) == ["m3", "m4"]
    assert page.json()["older_available"] is True
    assert _bodies(first) == ["m1", "m2"]
    assert first.json()["older_available"] is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"after_seq": 1, "before_seq": 5}, "non_field_errors"),
        ({"after_seq": -1}, "after_seq"),
        ({"after_seq": "abc"}, "after_seq"),
        ({"after_seq": "1; DROP TABLE chat_message"}, "after_seq"),
        ({"before_seq": 0}, "before_seq"),
        ({"limit": 201}, "limit"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_paging_parameters_are_a_400(api, tenant, query, field):
    conversation = conversation_in(tenant)

    error = assert_error(api.get(messages_url(conversation.pk), **query), 400, "invalid")

    assert field in error["details"]


@pytest.mark.django_db
def test_message_list_query_count_does_not_grow_with_the_messages(
    client, tenant, django_assert_max_num_queries
):
    host = host_of(tenant)
    owner = owner_of(tenant)
    colleague = AgentFactory(tenant=tenant)
    token = token_for(tenant, owner)
    conversation = conversation_in(tenant, name="Ana")
    client.get(messages_url(conversation.pk), HTTP_HOST=host, **bearer(token))  # token used

    def add(count: int) -> None:
        for n in range(count):
            # Customer and agent authors, each with an attachment: the N+1s to rule out.
            author = [None, owner, colleague][n % 3]
            kind = "customer" if author is None else "agent"
            (message,) = messages_in(tenant, conversation, [f"m{n}"], kind=kind, agent=author)
            _attachment(tenant, conversation, kind=kind, message=message)

    def listed() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                messages_url(conversation.pk) + "?after_seq=0&limit=200",
                HTTP_HOST=host,
                **bearer(token),
            )
        results = response.json()["results"]
        assert all(len(m["attachments"]) == 1 for m in results)
        return len(results), len(queries)

    add(3)
    with django_assert_max_num_queries(LIST_QUERIES_MAX):
        three, queries_for_three = listed()
    add(10)
    with django_assert_max_num_queries(LIST_QUERIES_MAX):
        thirteen, queries_for_thirteen = listed()

    assert (three, thirteen) == (3, 13)
    assert queries_for_three == queries_for_thirteen


# ---- Sending -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reply_is_stored_as_the_agent_and_returned_as_the_payload(api, tenant):
    conversation = conversation_in(tenant, name="Ana")
    messages_in(tenant, conversation, ["Where is my order?"])

    response = api.post(
        messages_url(conversation.pk), {"body": "It ships today.", "client_message_id": "a-1"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["seq"] == 2
    assert body["sender_kind"] == "agent"
    assert body["author"]["name"] == "Olivia Owner"
    assert (body["is_internal"], body["conversation_id"]) == (False, conversation.pk)
    assert body["client_message_id"] == "a-1"
    assert message_rows(tenant, conversation.pk)[-1] == (
        conversation.pk,
        2,
        "agent",
        "It ships today.",
        False,
    )
    row = conversation_row(tenant, conversation.pk)
    assert (row.last_message_preview, row.agent_unread_count) == ("It ships today.", 0)


@pytest.mark.django_db
def test_a_repeated_client_message_id_returns_the_stored_message(api, tenant):
    conversation = conversation_in(tenant)

    first = api.post(messages_url(conversation.pk), {"body": "Hello", "client_message_id": "r-1"})
    retry = api.post(messages_url(conversation.pk), {"body": "Hello", "client_message_id": "r-1"})

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert len(message_rows(tenant, conversation.pk)) == 1
    assert conversation_row(tenant, conversation.pk).last_seq == 1


@pytest.mark.django_db
def test_an_internal_note_is_stored_as_one_and_leaves_the_preview_alone(api, tenant):
    conversation = conversation_in(tenant)
    messages_in(tenant, conversation, ["Hi"])

    response = api.post(
        messages_url(conversation.pk), {"body": "Refund approved", "is_internal": True}
    )

    assert response.status_code == 201, response.content
    assert response.json()["is_internal"] is True
    assert message_rows(tenant, conversation.pk)[-1][-2:] == ("Refund approved", True)
    assert conversation_row(tenant, conversation.pk).last_message_preview == "Hi"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
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
    ],
)
def test_invalid_messages_are_a_400_and_nothing_is_stored(api, tenant, body):
    conversation = conversation_in(tenant)

    response = api.post(messages_url(conversation.pk), body)

    assert_error(response, 400, "invalid")
    assert message_rows(tenant) == []
    assert conversation_row(tenant, conversation.pk).last_seq == 0


@pytest.mark.django_db
def test_ids_in_the_body_never_redirect_the_message(api, tenant):
    target = conversation_in(tenant, name="Target")
    bystander = conversation_in(tenant, name="Bystander")

    response = api.post(
        messages_url(target.pk),
        {
            "body": "For the target",
            "conversation_id": bystander.pk,
            "sender_kind": "customer",
            "tenant": "globex",
            "schema_name": "globex",
        },
    )

    assert response.status_code == 201, response.content
    assert message_rows(tenant) == [(target.pk, 1, "agent", "For the target", False)]


@pytest.mark.django_db
def test_an_own_upload_is_attached_and_anyone_elses_is_refused(api, tenant):
    conversation = conversation_in(tenant)
    other = conversation_in(tenant)
    mine = _attachment(tenant, conversation)
    elsewhere = _attachment(tenant, other)
    visitors = _attachment(tenant, conversation, kind="customer")

    refused = [
        api.post(messages_url(conversation.pk), {"body": "x", "attachments": [str(a.pk)]})
        for a in (elsewhere, visitors)
    ]
    sent = api.post(messages_url(conversation.pk), {"body": "", "attachments": [str(mine.pk)]})

    for response in refused:
        assert_error(response, 400, "invalid")
    assert sent.status_code == 201, sent.content
    assert [a["id"] for a in sent.json()["attachments"]] == [str(mine.pk)]
    assert sent.json()["attachments"][0]["url"] == f"/attachments/{mine.pk}/"
    with tenant_context(tenant):
        attached = dict(Attachment.objects.values_list("pk", "message_id"))
    assert attached[elsewhere.pk] is None and attached[visitors.pk] is None
    assert [row[1] for row in message_rows(tenant, conversation.pk)] == [1]


@pytest.mark.django_db
def test_message_text_comes_back_verbatim_as_json(api, tenant):
    conversation = conversation_in(tenant, name=XSS)
    messages_in(tenant, conversation, [XSS])

    response = api.get(messages_url(conversation.pk))

    assert response["Content-Type"].startswith("application/json")
    assert response.json()["results"][0]["body"] == XSS
    assert response.json()["results"][0]["author"]["name"] == XSS


# ---- Cross-tenant -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_conversation_id_shows_only_the_callers_messages(api, tenant, other_tenant):
    mine = conversation_in(tenant)
    theirs = conversation_in(other_tenant)
    assert mine.pk == theirs.pk
    messages_in(tenant, mine, ["ours"])
    messages_in(other_tenant, theirs, ["theirs"])

    response = api.get(messages_url(mine.pk))

    assert _bodies(response) == ["ours"]


@pytest.mark.django_db
def test_another_workspaces_conversation_is_404_and_gets_no_message(api, tenant, other_tenant):
    conversation_in(tenant)
    for _ in range(3):
        theirs = conversation_in(other_tenant)
    messages_in(other_tenant, theirs, ["private"])
    before = message_rows(other_tenant)

    read = api.get(messages_url(theirs.pk), after_seq=0)
    write = api.post(messages_url(theirs.pk), {"body": "hijack", "client_message_id": "x-1"})
    missing = api.get(messages_url(987654))

    assert_error(read, 404, "not_found")
    assert_error(write, 404, "not_found")
    assert read.content == write.content == missing.content
    assert message_rows(other_tenant) == before
    assert message_rows(tenant) == []


# ---- Live delivery to the visitor (real ASGI app, real Redis) -----------------------------


def test_an_api_reply_reaches_the_visitor_live_and_an_internal_note_never_does(workspaces):
    from asgiref.sync import sync_to_async
    from django.test import Client

    a, _ = workspaces
    token = token_for(a.tenant, a.sam)
    api_client = Client(HTTP_HOST=a.host, **bearer(token))

    def post(conversation_id: int, body: dict):
        return api_client.post(messages_url(conversation_id), body, content_type="application/json")

    async def scenario():
        visitor, _, _ = await visitor_open(a.host)
        await send(
            visitor, {"type": "message.send", "client_message_id": client_id(), "body": "Hi"}
        )
        started = await frames_until(visitor, "ack")
        conversation_id = of_type(started, "session")[0]["conversation"]["id"]

        note = await sync_to_async(post)(conversation_id, {"body": "VIP", "is_internal": True})
        reply = await sync_to_async(post)(conversation_id, {"body": "Hello from the API"})
        # Both were broadcast in order after their commits; the note only to agents, so the
        # first message the visitor hears is the reply.
        heard = await frames_until(visitor, "message")
        await visitor.disconnect()
        return note, reply, heard

    note, reply, heard = run(scenario())

    assert (note.status_code, reply.status_code) == (201, 201)
    message = heard[-1]["message"]
    assert message["body"] == "Hello from the API"
    assert message["seq"] == reply.json()["seq"] == note.json()["seq"] + 1
    assert message["author"]["name"] == "Sam at Acme"
    assert "is_internal" not in message
    assert not any("VIP" in str(frame) for frame in heard)
