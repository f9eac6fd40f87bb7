"""Visitors' messages stored many at a time (chat/services/visitor_message_batch.py).

The batch must leave exactly what `message_create` leaves for the same messages one at a time:
several tests run the same sends both ways on the same rows (the batch inside a transaction that
is then rolled back) and compare the workspace. The last test goes through the real widget
socket, where sends of many sockets arriving together are written in one batch.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from chat.models import Conversation, Message, WidgetSettings
from chat.payloads import conversation_summary, visitor_conversation_payload
from chat.rate_limits import RateLimited
from chat.services.conversations import conversation_open
from chat.services.messages import message_create
from chat.services.visitor_message_batch import (
    SendOutcome,
    visitor_messages_store,
    visitor_messages_store_many,
)
from chat.services.visitor_socket import (
    BatchedSend,
    VisitorGone,
    VisitorState,
    visitor_message_store,
    visitor_socket_send,
)
from chat.services.visitors import PageContext
from helpdesk.contacts.models import Contact
from helpdesk.realtime.groups import agents_group, conversation_group, deferred_broadcasts
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.payloads import ticket_summary
from helpdesk.tickets.services.status import ticket_status_change
from tenants.agents.models import User
from tenants.connection import connection
from tests.chat.widget_client import frames_until, nothing_more, of_type, send, visitor_open
from tests.factories import ConversationFactory
from tests.helpdesk.realtime.wsclient import receive, run, session_cookie, socket

S = Ticket.Status
CUSTOMER = Message.SenderKind.CUSTOMER


def _send(conversation: Conversation, body: str, cid: str | None = None, ip="10.0.0.1"):
    return BatchedSend(
        conversation_id=conversation.pk,
        contact_id=conversation.contact_id,
        ip=ip,
        client_message_id=cid,
        body=body,
    )


def _ticket(conversation: Conversation) -> Ticket:
    return Ticket.objects.select_related("requester", "assignee").get(
        conversations__id=conversation.pk
    )


def _set_status(conversation: Conversation, *steps: str, **kwargs: Any) -> None:
    for step in steps:
        ticket_status_change(ticket=_ticket(conversation), status=step, actor=None, **kwargs)


def _bodies(conversation: Conversation) -> list[tuple[int, str]]:
    return list(
        Message.objects.filter(conversation_id=conversation.pk)
        .order_by("seq")
        .values_list("seq", "body")
    )


def _state(conversations: list[Conversation]) -> dict[str, Any]:
    """The rows the sends touch, without what differs between two runs of the same sends
    (ids of new messages, clock readings); the clocks are checked against the messages."""
    ids = [c.pk for c in conversations]
    rows: list[dict[str, Any]] = [
        dict(r) for r in Conversation.objects.filter(pk__in=ids).order_by("pk").values()
    ]
    tickets: list[dict[str, Any]] = [
        dict(t)
        for t in Ticket.objects.filter(pk__in={r["ticket_id"] for r in rows})
        .order_by("pk")
        .values()
    ]
    messages = list(
        Message.objects.filter(conversation_id__in=ids).order_by("conversation_id", "seq").values()
    )
    newest: dict[int, Any] = {}
    for message in messages:
        newest[message["conversation_id"]] = message["created_at"]
    for row in rows:
        # The conversation's activity is its newest message's time.
        assert row.pop("last_activity_at") == newest.get(row["id"], row["created_at"])
    for ticket in tickets:
        mine = [
            newest[r["id"]] for r in rows if r["ticket_id"] == ticket["id"] and r["id"] in newest
        ]
        assert ticket.pop("last_activity_at") == max(mine, default=ticket["created_at"])
    return {
        "conversations": rows,
        "tickets": tickets,
        "messages": [
            {k: v for k, v in m.items() if k not in ("id", "created_at")} for m in messages
        ],
    }


class _Undo(Exception):
    pass


def _batched_then_undone(
    sends: list[BatchedSend], conversations: list[Conversation], capture=None
) -> tuple[list[SendOutcome], dict[str, Any], list[dict[str, Any]]]:
    """Store `sends` in one batch, read the rows (and, with `capture`, what agents hear), and
    roll it all back."""
    heard: list[dict[str, Any]] = []
    try:
        with transaction.atomic():
            if capture is not None:
                outcomes, heard = _store_heard(capture, sends)
            else:
                outcomes = visitor_messages_store(sends)
            state = _state(conversations)
            raise _Undo
    except _Undo:
        pass
    return outcomes, state, heard


def _one_at_a_time(sends: list[BatchedSend]) -> list[dict[str, Any]]:
    """What the widget did before batches: message_create for each send, in order."""
    return [
        visitor_message_store(
            conversation_id=s.conversation_id or 0,
            contact_id=s.contact_id or 0,
            client_message_id=s.client_message_id,
            body=s.body,
            attachments=None,
        )
        for s in sends
    ]


def _frame(event: dict[str, Any]) -> dict[str, Any]:
    """The socket frame a channel-layer event carries (encoded once by message_events)."""
    assert event["type"] == "chat.message"
    return json.loads(event["frame"])


def _heard_by_agents(pending: list[tuple[str, dict]], schema: str) -> list[dict[str, Any]]:
    """The frames agent sockets get from these broadcasts, in order: a batch's messages as one
    `chat.messages` event, a message stored one at a time as a `chat.message`."""
    frames: list[dict[str, Any]] = []
    for group, event in pending:
        if group != agents_group(schema):
            continue
        if event["type"] == "chat.messages":
            frames += [json.loads(frame) for frame in event["frames"]]
        else:
            frames.append(_frame(event))
    return frames


def _store_heard(capture, sends: list[BatchedSend]) -> tuple[list[SendOutcome], list[dict]]:
    """Store `sends` as the consumer's database call does: the outcomes, and what the agents
    hear once the batch commits (collected as helpdesk/realtime/db.py collects it)."""
    pending: list[tuple[str, dict]] = []
    token = deferred_broadcasts.set(pending)
    try:
        with capture(execute=True):
            outcomes = visitor_messages_store(sends)
    finally:
        deferred_broadcasts.reset(token)
    return outcomes, _heard_by_agents(pending, connection.schema_name)


def _ack(outcome: SendOutcome) -> dict[str, Any]:
    assert outcome.error is None and outcome.ack is not None, outcome
    return outcome.ack


def _acks(outcomes: list[SendOutcome]) -> list[tuple[int, bool]]:
    assert all(o.error is None and o.ack is not None for o in outcomes), outcomes
    return [(o.ack["seq"], o.ack["created"]) for o in outcomes if o.ack is not None]


# ---- What a batch stores ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_over_several_conversations_stores_what_message_create_would(tenant):
    with tenant_context(tenant):
        fresh = ConversationFactory()
        unread = ConversationFactory()
        for body in ("Where is my parcel?", "Order #12"):
            message_create(conversation=unread, sender_kind=CUSTOMER, body=body)
        answered = ConversationFactory()
        message_create(conversation=answered, sender_kind=CUSTOMER, body="Hi")
        message_create(
            conversation=answered,
            sender_kind=Message.SenderKind.AGENT,
            sender_agent=User.objects.get(role=User.Role.OWNER),
            body="Hello, how can I help?",
        )
        # Two conversations of one ticket: its counters take both messages.
        shared = ConversationFactory()
        sibling = conversation_open(contact=shared.contact, on_ticket=_ticket(shared))
        # A ticket that so far only knew the customer by mail gains the web channel.
        mailed = ConversationFactory()
        Ticket.objects.filter(pk=_ticket(mailed).pk).update(channels=["email"])
        conversations = [fresh, unread, answered, shared, sibling, mailed]
        sends = [
            _send(mailed, "Now on the website", "m-1"),
            _send(fresh, "Hello, anyone there?", "f-1"),
            _send(unread, "Any news?\n\n  It's been   a week.", "u-1"),
            _send(answered, "Thanks! 🎉 Größe 42, 'quoted' \\ backslash", "a-1"),
            _send(shared, "From the first tab", None),
            _send(sibling, "x" * 300, "s-1"),
            _send(fresh, "Second in the same batch", "f-2"),
        ]

        outcomes, batched, _ = _batched_then_undone(sends, conversations)
        acks = _one_at_a_time(sends)
        single = _state(conversations)

        assert batched == single
        assert _acks(outcomes) == [(a["seq"], a["created"]) for a in acks]
        assert _acks(outcomes) == [
            (1, True),
            (1, True),
            (3, True),
            (3, True),
            (1, True),
            (1, True),
            (2, True),
        ]
        assert [o.ack["client_message_id"] for o in outcomes if o.ack] == [
            "m-1",
            "f-1",
            "u-1",
            "a-1",
            None,
            "s-1",
            "f-2",
        ]
        # The same, spelled out for the rows an agent's inbox shows.
        rows = {r["id"]: r for r in batched["conversations"]}
        assert (rows[fresh.pk]["last_seq"], rows[fresh.pk]["agent_unread_count"]) == (2, 2)
        assert rows[fresh.pk]["last_message_preview"] == "Second in the same batch"
        assert rows[unread.pk]["agent_unread_count"] == 3
        assert rows[unread.pk]["last_message_preview"] == "Any news? It's been a week."
        assert rows[answered.pk]["agent_unread_count"] == 1
        assert rows[answered.pk]["last_message_sender_kind"] == "customer"
        assert rows[sibling.pk]["last_message_preview"] == "x" * 200
        tickets = {t["id"]: t for t in batched["tickets"]}
        assert tickets[rows[unread.pk]["ticket_id"]]["unread_count"] == 3
        assert tickets[rows[answered.pk]["ticket_id"]]["unread_count"] == 1
        assert tickets[rows[shared.pk]["ticket_id"]]["unread_count"] == 2
        assert tickets[rows[fresh.pk]["ticket_id"]]["last_message_preview"] == (
            "Second in the same batch"
        )
        assert tickets[rows[mailed.pk]["ticket_id"]]["channels"] == ["email", "web"]


@pytest.mark.django_db
def test_messages_of_one_conversation_in_one_batch_get_consecutive_seqs_in_order(
    tenant, django_capture_on_commit_callbacks
):
    with tenant_context(tenant):
        mine, other = ConversationFactory(), ConversationFactory()
        message_create(conversation=mine, sender_kind=CUSTOMER, body="earlier")
        sends = [
            _send(mine, "one", "m-1"),
            _send(other, "elsewhere", "o-1"),
            _send(mine, "two", None),
            _send(mine, "three", "m-3"),
        ]

        outcomes, heard = _store_heard(django_capture_on_commit_callbacks, sends)

        assert _acks(outcomes) == [(2, True), (1, True), (3, True), (4, True)]
        assert _bodies(mine) == [(1, "earlier"), (2, "one"), (3, "two"), (4, "three")]
        assert _bodies(other) == [(1, "elsewhere")]
        row = Conversation.objects.get(pk=mine.pk)
        assert (row.last_seq, row.agent_unread_count, row.last_message_preview) == (4, 4, "three")
        stored = Message.objects.filter(conversation_id=mine.pk, seq__gt=1).order_by("seq")
        assert [m.pk for m in stored] == [_ack(outcomes[i])["message_id"] for i in (0, 2, 3)]
        times = [m.created_at for m in stored]
        assert times == sorted(times) and row.last_activity_at == times[-1]
        assert _ticket(mine).unread_count == 4
        # Announced in order, as one event; the last one carries the rows as they are now.
        agent_frames = [f for f in heard if f["conversation_id"] == mine.pk]
        assert [f["message"]["seq"] for f in agent_frames] == [2, 3, 4]
        assert [f["message"]["body"] for f in heard] == ["one", "elsewhere", "two", "three"]
        assert agent_frames[-1]["ticket"] == ticket_summary(_ticket(mine))
        assert agent_frames[-1]["conversation"] == conversation_summary(
            Conversation.objects.select_related("contact", "assignee").get(pk=mine.pk)
        )


@pytest.mark.django_db
def test_a_repeated_client_message_id_is_stored_once_and_acked_again(tenant):
    with tenant_context(tenant):
        conversation, other = ConversationFactory(), ConversationFactory()
        old = message_create(
            conversation=conversation,
            sender_kind=CUSTOMER,
            body="sent before",
            client_message_id="old-1",
        ).message
        sends = [
            _send(conversation, "first try", "dup-1"),
            _send(conversation, "first try", "dup-1"),  # the retry, in the same batch
            _send(conversation, "sent before", "old-1"),  # a retry of a stored one
            _send(other, "another conversation", "dup-1"),  # same id, another conversation
        ]

        outcomes = visitor_messages_store(sends)

        new = Message.objects.get(conversation_id=conversation.pk, client_message_id="dup-1")
        assert [o.ack for o in outcomes[:3]] == [
            {
                "type": "ack",
                "client_message_id": "dup-1",
                "seq": 2,
                "message_id": new.pk,
                "created": True,
                # The conversation after the whole batch, as the visitor's other tabs hear it.
                "conversation": {
                    "id": conversation.pk,
                    "status": "open",
                    "agent_last_read_seq": 0,
                    "visitor_last_read_seq": 0,
                },
            },
            {
                "type": "ack",
                "client_message_id": "dup-1",
                "seq": 2,
                "message_id": new.pk,
                "created": False,
            },
            {
                "type": "ack",
                "client_message_id": "old-1",
                "seq": 1,
                "message_id": old.pk,
                "created": False,
            },
        ]
        # Only new messages are announced to the visitor's other tabs (agents: the batch event).
        assert [len(o.events) for o in outcomes] == [1, 0, 0, 1]
        assert all(o.error is None for o in outcomes)
        assert _bodies(conversation) == [(1, "sent before"), (2, "first try")]
        assert _bodies(other) == [(1, "another conversation")]
        row = Conversation.objects.get(pk=conversation.pk)
        assert (row.last_seq, row.agent_unread_count) == (2, 2)
        assert _ticket(conversation).unread_count == 2


# ---- Ticket status ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_customer_messages_reopen_tickets_as_message_create_does(
    tenant, django_capture_on_commit_callbacks
):
    with tenant_context(tenant):
        solved, pending, snoozed, on_hold = (ConversationFactory() for _ in range(4))
        for conversation in (solved, pending, snoozed, on_hold):
            message_create(conversation=conversation, sender_kind=CUSTOMER, body="Help")
        _set_status(solved, S.SOLVED)
        _set_status(pending, S.PENDING)
        _set_status(snoozed, S.ON_HOLD, snoozed_until=timezone.now() + timedelta(days=1))
        _set_status(on_hold, S.ON_HOLD)
        conversations = [solved, pending, snoozed, on_hold]
        sends = [_send(c, f"Still broken ({n})", f"r-{n}") for n, c in enumerate(conversations)]

        outcomes, batched, heard = _batched_then_undone(
            sends, conversations, django_capture_on_commit_callbacks
        )
        _one_at_a_time(sends)
        single = _state(conversations)

        assert batched == single
        tickets = {t["id"]: t for t in batched["tickets"]}
        got = [
            (tickets[r["ticket_id"]]["status"], r["status"], r["snoozed_until"])
            for r in batched["conversations"]
        ]
        # Solved and pending reopen, a hold until a time wakes; a hold for a third party stays.
        assert got == [
            (S.OPEN, "open", None),
            (S.OPEN, "open", None),
            (S.OPEN, "open", None),
            (S.ON_HOLD, "pending", None),
        ]
        assert _acks(outcomes) == [(2, True)] * 4
        agent_frames = heard
        assert [f["ticket"]["status"] for f in agent_frames] == ["open", "open", "open", "on_hold"]
        assert [f["conversation"]["status"] for f in agent_frames] == [
            "open",
            "open",
            "open",
            "pending",
        ]


@pytest.mark.django_db
def test_a_message_on_a_closed_ticket_opens_a_linked_follow_up_and_is_acked(
    tenant, django_capture_on_commit_callbacks
):
    with tenant_context(tenant):
        owner = User.objects.get(role=User.Role.OWNER)
        closed_chat = ConversationFactory(subject="Broken zipper", assignee=owner)
        message_create(conversation=closed_chat, sender_kind=CUSTOMER, body="My zipper broke")
        _set_status(closed_chat, S.SOLVED, S.CLOSED)
        closed = _ticket(closed_chat)
        closed_before = ticket_summary(closed)
        open_chat = ConversationFactory()
        pending: list[tuple[str, dict]] = []
        # Collected as the consumer's database call collects them (helpdesk/realtime/db.py).
        token = deferred_broadcasts.set(pending)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                outcomes = visitor_messages_store(
                    [
                        _send(closed_chat, "It broke again", "z-1"),
                        _send(open_chat, "Unrelated question", "q-1"),
                        _send(closed_chat, "Same zipper", "z-2"),
                    ]
                )
        finally:
            deferred_broadcasts.reset(token)

        assert _acks(outcomes) == [(2, True), (1, True), (3, True)]
        follow_up = _ticket(closed_chat)
        assert follow_up.pk != closed.pk
        assert follow_up.follow_up_of_id == closed.pk
        assert (follow_up.status, follow_up.subject, follow_up.assignee_id) == (
            S.NEW,
            "Broken zipper",
            owner.pk,
        )
        assert (follow_up.unread_count, follow_up.last_message_preview) == (2, "Same zipper")
        assert ticket_summary(Ticket.objects.get(pk=closed.pk)) == closed_before
        assert _bodies(closed_chat) == [
            (1, "My zipper broke"),
            (2, "It broke again"),
            (3, "Same zipper"),
        ]
        assert Conversation.objects.get(pk=closed_chat.pk).status == "open"
        assert _bodies(open_chat) == [(1, "Unrelated question")]
        # The follow-up's messages are announced after the commit, naming the new ticket.
        schema = tenant.schema_name
        agent_frames = _heard_by_agents(pending, schema)
        assert [(f["message"]["body"], f["ticket"]["id"]) for f in agent_frames] == [
            ("Unrelated question", _ticket(open_chat).pk),
            ("It broke again", follow_up.pk),
            ("Same zipper", follow_up.pk),
        ]
        assert [g for g, _ in pending].count(conversation_group(schema, closed_chat.pk)) == 2
        assert [g for g, _ in outcomes[1].events] == [conversation_group(schema, open_chat.pk)]


# ---- Refusals --------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(WIDGET_RATE_MESSAGES_PER_VISITOR=(2, 60))
def test_a_visitor_over_the_rate_limit_is_refused_within_the_batch(tenant):
    with tenant_context(tenant):
        chatty, calm = ConversationFactory(), ConversationFactory()
        sends = [
            _send(chatty, "one", "c-1"),
            _send(chatty, "two", "c-2"),
            _send(calm, "hello", "k-1"),
            _send(chatty, "three", "c-3"),
        ]

        outcomes = visitor_messages_store(sends)
        again = visitor_messages_store([_send(chatty, "four", "c-4")])

        assert [(o.ack or {}).get("seq") for o in outcomes] == [1, 2, 1, None]
        refused = outcomes[3].error
        assert isinstance(refused, RateLimited) and 0 < refused.retry_after <= 60
        assert outcomes[3].events == []
        assert isinstance(again[0].error, RateLimited) and again[0].ack is None
        assert _bodies(chatty) == [(1, "one"), (2, "two")]
        assert _bodies(calm) == [(1, "hello")]
        row = Conversation.objects.get(pk=chatty.pk)
        assert (row.last_seq, row.agent_unread_count) == (2, 2)
        assert _ticket(chatty).unread_count == 2


@pytest.mark.django_db
@override_settings(WIDGET_RATE_MESSAGES_PER_IP=(2, 60))
def test_one_network_over_its_limit_is_refused_first_messages_included(tenant):
    with tenant_context(tenant):
        chats = [ConversationFactory() for _ in range(3)]
        before = (Contact.objects.count(), Conversation.objects.count(), Ticket.objects.count())
        sends = [_send(c, f"from {n}", f"n-{n}", ip="10.7.7.7") for n, c in enumerate(chats[:2])]
        # A new shopper on the same network: refused before anyone is created.
        sends.append(_first("new here", "n-new", ip="10.7.7.7"))
        sends.append(_send(chats[2], "another network", "n-2", ip="10.8.8.8"))

        outcomes = visitor_messages_store(sends)

        assert [o.ack is not None for o in outcomes] == [True, True, False, True]
        assert isinstance(outcomes[2].error, RateLimited) and outcomes[2].state is None
        assert (Contact.objects.count(), Conversation.objects.count(), Ticket.objects.count()) == (
            before
        )
        assert [_bodies(c) for c in chats] == [
            [(1, "from 0")],
            [(1, "from 1")],
            [(1, "another network")],
        ]


@pytest.mark.django_db
def test_a_deleted_conversation_is_refused_and_the_rest_of_the_batch_stored(tenant):
    with tenant_context(tenant):
        gone, alive = ConversationFactory(), ConversationFactory()
        gone_ticket = _ticket(gone)
        gone_before = ticket_summary(gone_ticket)
        Conversation.objects.filter(pk=gone.pk).delete()

        outcomes = visitor_messages_store(
            [
                _send(gone, "anyone?", "g-1"),
                _send(alive, "hello", "a-1"),
                _send(gone, "hello?", None),
            ]
        )

        assert [type(o.error) for o in outcomes] == [VisitorGone, type(None), VisitorGone]
        assert outcomes[0].ack is None and outcomes[0].events == []
        assert outcomes[1].ack is not None and outcomes[1].ack["seq"] == 1
        assert list(Message.objects.values_list("conversation_id", "body")) == [(alive.pk, "hello")]
        assert ticket_summary(Ticket.objects.get(pk=gone_ticket.pk)) == gone_before


# ---- Broadcasts and workspaces ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_events_name_the_workspaces_groups_and_carry_the_new_counts(
    tenant, other_tenant, django_capture_on_commit_callbacks
):
    for workspace in (tenant, other_tenant):
        with tenant_context(workspace):
            conversation = ConversationFactory()
            message_create(conversation=conversation, sender_kind=CUSTOMER, body="first")

            pending: list[tuple[str, dict]] = []
            token = deferred_broadcasts.set(pending)
            try:
                with django_capture_on_commit_callbacks(execute=True):
                    (outcome,) = visitor_messages_store(
                        [_send(conversation, "Is it in stock?", "e-1")]
                    )
            finally:
                deferred_broadcasts.reset(token)

            schema = workspace.schema_name
            assert [group for group, _ in outcome.events] == [
                f"{schema}.conversation.{conversation.pk}"
            ]
            assert [group for group, _ in pending] == [f"{schema}.agents"]
            row = Conversation.objects.select_related("contact", "assignee").get(pk=conversation.pk)
            ticket = _ticket(conversation)
            visitor = _frame(outcome.events[0][1])
            (agent,) = _heard_by_agents(pending, schema)
            assert visitor["type"] == "message"
            assert visitor["conversation"] == visitor_conversation_payload(row)
            assert (visitor["message"]["seq"], visitor["message"]["body"]) == (2, "Is it in stock?")
            assert visitor["message"]["client_message_id"] == "e-1"
            assert visitor["message"]["sender_kind"] == "customer"
            assert "is_internal" not in visitor["message"]
            assert agent["conversation_id"] == conversation.pk
            assert agent["message"]["id"] == _ack(outcome)["message_id"]
            assert agent["message"]["is_internal"] is False
            assert agent["message"]["author"]["name"] == "Ana"
            assert agent["conversation"] == conversation_summary(row)
            assert agent["ticket"] == ticket_summary(ticket)
            assert agent["ticket"]["unread_count"] == 2
            assert agent["ticket"]["last_message_preview"] == "Is it in stock?"
            assert agent["conversation"]["agent_unread_count"] == 2


@pytest.mark.django_db
def test_a_send_naming_another_workspaces_conversation_stores_nothing_there(tenant, other_tenant):
    with tenant_context(tenant):
        mine = ConversationFactory()
    with tenant_context(other_tenant):
        theirs = [ConversationFactory() for _ in range(3)]
    assert theirs[0].pk == mine.pk  # the premise: ids repeat across workspaces
    only_theirs = theirs[2]

    with tenant_context(tenant):
        assert not Conversation.objects.filter(pk=only_theirs.pk).exists()
        outcomes = visitor_messages_store(
            [_send(only_theirs, "into globex?", "x-1"), _send(mine, "mine", "m-1")]
        )
        assert isinstance(outcomes[0].error, VisitorGone)
        assert outcomes[1].ack is not None
        assert list(Message.objects.values_list("conversation_id", "body")) == [(mine.pk, "mine")]
        assert {g.split(".")[0] for g, _ in outcomes[1].events} == {tenant.schema_name}

    with tenant_context(other_tenant):
        assert not Message.objects.exists()
        assert set(Conversation.objects.values_list("last_seq", "agent_unread_count")) == {(0, 0)}
        assert set(Ticket.objects.values_list("unread_count", flat=True)) == {0}


# ---- Through the widget socket ---------------------------------------------------------------


def test_many_sockets_sending_at_once_are_all_acked_and_heard_once(workspaces):
    a, b = workspaces
    cookies = {a.host: session_cookie(a.tenant, a.sam), b.host: session_cookie(b.tenant, b.sam)}
    rounds = 3
    plan = [(a, n) for n in range(6)] + [(b, n) for n in range(2)]

    def body(workspace, n, k):
        return f"{workspace.tenant.schema_name} visitor {n} message {k} ünï 🎉 'q'"

    async def open_visitor(workspace, n):
        sock, _, _ = await visitor_open(workspace.host, ip=f"10.1.0.{n}")
        await send(sock, {"type": "message.send", "client_message_id": f"v{n}-0", "body": "hi"})
        session = of_type(await frames_until(sock, "ack"), "session")[0]
        # The same visitor in a second tab: it hears what the first one sends.
        tab, _, _ = await visitor_open(workspace.host, token=session["token"], last_seq=1)
        return sock, tab, session["conversation"]["id"]

    async def burst(sock, workspace, n):
        """Send every message without waiting; then wait for every ack."""
        for k in range(1, rounds + 1):
            await send(
                sock,
                {
                    "type": "message.send",
                    "client_message_id": f"v{n}-{k}",
                    "body": body(workspace, n, k),
                },
            )
        acks: list[dict] = []
        while len(acks) < rounds:
            frame = await receive(sock, 10)
            assert frame["type"] == "ack", frame  # the sender has no use for an echo
            acks.append(frame)
        return acks, await nothing_more(sock)

    async def echoed(tab, n):
        echoes: list[dict] = []
        while len(echoes) < rounds:
            frame = await receive(tab, 10)
            # The first message's own broadcast may reach the tab after it opened: the widget
            # drops a seq it has; the test does the same.
            if frame["type"] == "message" and frame["message"]["client_message_id"] != f"v{n}-0":
                echoes.append(frame["message"])
        return echoes, await nothing_more(tab)

    async def heard(agent, count):
        messages: list[dict] = []
        while len(messages) < count:
            frame = await receive(agent, 10)
            if frame["type"] == "message":
                messages.append(frame)
        return messages, await nothing_more(agent, 0.5)

    async def scenario():
        agents = {}
        for workspace in (a, b):
            agent = socket(workspace.host, cookie=cookies[workspace.host])
            assert (await agent.connect(timeout=5))[0]
            await receive(agent)  # hello
            agents[workspace.host] = agent
        visitors = [await open_visitor(w, n) for w, n in plan]
        for workspace in (a, b):  # the first messages, sent one by one
            await heard(agents[workspace.host], sum(1 for w, _ in plan if w is workspace))
        count = len(plan)
        results = await asyncio.gather(
            *(burst(sock, w, n) for (sock, _, _), (w, n) in zip(visitors, plan, strict=True)),
            *(echoed(tab, n) for (_, tab, _), (_, n) in zip(visitors, plan, strict=True)),
            *(heard(agents[w.host], rounds * sum(1 for x, _ in plan if x is w)) for w in (a, b)),
        )
        for sock, tab, _ in visitors:
            await sock.disconnect()
            await tab.disconnect()
        for agent in agents.values():
            await agent.disconnect()
        bursts, tabs = results[:count], results[count : 2 * count]
        return [c for _, _, c in visitors], bursts, tabs, results[2 * count :]

    conversation_ids, bursts, tabs, agent_results = run(scenario())

    for (workspace, n), (acks, quiet), (echoes, tab_quiet) in zip(plan, bursts, tabs, strict=True):
        assert [(x["client_message_id"], x["seq"], x["created"]) for x in acks] == [
            (f"v{n}-{k}", k + 1, True) for k in range(1, rounds + 1)
        ]
        assert quiet
        assert sorted((m["seq"], m["body"]) for m in echoes) == [
            (k + 1, body(workspace, n, k)) for k in range(1, rounds + 1)
        ]
        assert tab_quiet
    for workspace, (messages, quiet) in zip((a, b), agent_results, strict=True):
        expected = sorted(
            (cid, k + 1, body(workspace, n, k))
            for (w, n), cid in zip(plan, conversation_ids, strict=True)
            if w is workspace
            for k in range(1, rounds + 1)
        )
        # Every message exactly once, none of the other workspace's.
        assert (
            sorted(
                (f["conversation_id"], f["message"]["seq"], f["message"]["body"]) for f in messages
            )
            == expected
        )
        assert quiet
        by_conversation: dict[int, list[int]] = {}
        for f in messages:
            by_conversation.setdefault(f["conversation_id"], []).append(f["ticket"]["unread_count"])
        assert all(max(counts) == rounds + 1 for counts in by_conversation.values())
        with tenant_context(workspace.tenant):
            stored = list(
                Message.objects.filter(seq__gt=1)
                .order_by("conversation_id", "seq")
                .values_list("conversation_id", "seq", "body")
            )
            rows = list(
                Conversation.objects.order_by("pk").values_list(
                    "pk", "last_seq", "agent_unread_count", "ticket__unread_count"
                )
            )
            assert set(Contact.objects.values_list("pk", flat=True))  # visitors became contacts
        assert stored == expected
        ids = sorted(c for (w, _), c in zip(plan, conversation_ids, strict=True) if w is workspace)
        assert rows == [(pk, rounds + 1, rounds + 1, rounds + 1) for pk in ids]


# ---- First messages ----------------------------------------------------------------------------


def _first(body: str, cid: str, ip: str = "10.0.0.9") -> BatchedSend:
    context = PageContext.parse(
        page={"url": "https://shop.example/p/7", "title": "Boots", "referrer": ""},
        timezone_name="America/Sao_Paulo",
        language="pt-BR",
        user_agent="Mozilla/5.0",
    )
    return BatchedSend(
        conversation_id=None,
        contact_id=None,
        ip=ip,
        client_message_id=cid,
        body=body,
        context=context,
    )


@pytest.mark.django_db
def test_a_first_message_starts_its_conversation_in_the_batch(
    tenant, django_capture_on_commit_callbacks
):
    with tenant_context(tenant):
        chatting = ConversationFactory()
        pending: list[tuple[str, dict]] = []
        token = deferred_broadcasts.set(pending)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                outcomes = visitor_messages_store(
                    [_first("Olá, tem tamanho 40?", "f-1"), _send(chatting, "still here", "s-1")]
                )
        finally:
            deferred_broadcasts.reset(token)

        first = outcomes[0]
        assert first.error is None and first.state is not None and first.session is not None
        assert first.state.conversation_id is not None
        conversation = Conversation.objects.select_related("contact").get(
            pk=first.state.conversation_id
        )
        contact = conversation.contact
        assert first.state.contact_id == contact.pk
        assert first.session["type"] == "session" and first.session["token"]
        assert first.session["conversation"]["id"] == conversation.pk
        assert (contact.last_page_url, contact.timezone, contact.language) == (
            "https://shop.example/p/7",
            "America/Sao_Paulo",
            "pt-BR",
        )
        assert _bodies(conversation) == [(1, "Olá, tem tamanho 40?")]
        assert _ack(first)["seq"] == 1
        ticket = _ticket(conversation)
        assert (ticket.status, ticket.unread_count) == (S.NEW, 1)
        # Agents hear of the new chat once, from the message, with its ticket; no empty
        # conversation or ticket announced before it.
        schema = tenant.schema_name
        assert [g for g, _ in pending] == [agents_group(schema)]
        heard = _heard_by_agents(pending, schema)
        assert [(f["conversation_id"], f["ticket"]["id"]) for f in heard] == [
            (conversation.pk, ticket.pk),
            (chatting.pk, _ticket(chatting).pk),
        ]
        assert outcomes[1].ack is not None and outcomes[1].state is None


@pytest.mark.django_db
def test_a_first_message_refused_at_the_start_leaves_nothing(tenant):
    with tenant_context(tenant):
        chatting = ConversationFactory()
        before = (Contact.objects.count(), Conversation.objects.count(), Ticket.objects.count())
        WidgetSettings.objects.update_or_create(id=1, defaults={"enabled": False})

        outcomes = visitor_messages_store(
            [_first("hello?", "f-2"), _send(chatting, "still here", "s-2")]
        )

        refused = outcomes[0].error
        assert isinstance(refused, ValidationError) and refused.code == "widget_disabled"
        assert outcomes[0].ack is None and outcomes[0].state is None
        assert (Contact.objects.count(), Conversation.objects.count(), Ticket.objects.count()) == (
            before
        )
        assert list(Message.objects.values_list("body", flat=True)) == ["still here"]


@pytest.mark.django_db
def test_a_first_message_follows_the_settings_saved_moments_before(tenant):
    with tenant_context(tenant):
        WidgetSettings.objects.update_or_create(
            id=1, defaults={"ask_email": WidgetSettings.EmailField.REQUIRED}
        )
        before = (Contact.objects.count(), Conversation.objects.count(), Ticket.objects.count())

        (asked,) = visitor_messages_store([_first("hello?", "e-1")])

        assert isinstance(asked.error, ValidationError) and asked.error.code == "email_required"
        assert (Contact.objects.count(), Conversation.objects.count(), Ticket.objects.count()) == (
            before
        )
        assert not Message.objects.exists()

        WidgetSettings.objects.filter(id=1).update(ask_email=WidgetSettings.EmailField.OPTIONAL)
        (started,) = visitor_messages_store([_first("hello again", "e-2")])

        assert started.error is None and started.state is not None
        assert list(Message.objects.values_list("body", flat=True)) == ["hello again"]


@pytest.mark.django_db
def test_a_first_message_in_a_workspace_without_widget_settings_creates_them(tenant):
    with tenant_context(tenant):
        WidgetSettings.objects.all().delete()

        (started,) = visitor_messages_store([_first("anyone there?", "w-1")])

        assert started.error is None and started.state is not None
        settings = WidgetSettings.objects.get(id=1)
        assert settings.enabled and settings.identity_secret
        assert list(Message.objects.values_list("body", flat=True)) == ["anyone there?"]


@pytest.mark.django_db
@override_settings(WIDGET_RATE_MESSAGES_PER_VISITOR=(2, 60))
def test_a_first_message_counts_against_the_new_visitors_own_budget(tenant):
    with tenant_context(tenant):
        (first,) = visitor_messages_store([_first("one", "b-1")])
        assert first.state is not None and first.state.conversation_id is not None
        conversation = Conversation.objects.get(pk=first.state.conversation_id)
        later = [_send(conversation, "two", "b-2"), _send(conversation, "three", "b-3")]

        outcomes = visitor_messages_store(later)

        assert outcomes[0].ack is not None
        assert isinstance(outcomes[1].error, RateLimited)
        assert _bodies(conversation) == [(1, "one"), (2, "two")]


@pytest.mark.django_db
@override_settings(WIDGET_RATE_MESSAGES_PER_VISITOR=(2, 60))
def test_a_known_visitors_first_message_is_counted_once(tenant):
    """A contact who left an email before writing: the first message is one of their two."""
    with tenant_context(tenant):
        known = Contact.objects.create(email="ana@example.com")
        first = replace(_first("one", "k-1"), contact_id=known.pk)

        (started,) = visitor_messages_store([first])
        assert started.state is not None and started.state.contact_id == known.pk
        conversation = Conversation.objects.get(pk=started.state.conversation_id)
        outcomes = visitor_messages_store(
            [_send(conversation, "two", "k-2"), _send(conversation, "three", "k-3")]
        )

        assert outcomes[0].ack is not None
        assert isinstance(outcomes[1].error, RateLimited)
        assert _bodies(conversation) == [(1, "one"), (2, "two")]


# ---- Several workspaces in one batch ---------------------------------------------------------


def _store_many_heard(capture, batch) -> tuple[list, list[tuple[str, dict]]]:
    """Store a batch of several workspaces as the consumers' database call does, outside any
    workspace's schema; the results and the broadcasts sent once it committed."""
    pending: list[tuple[str, dict]] = []
    token = deferred_broadcasts.set(pending)
    try:
        with schema_context("public"), capture(execute=True):
            results = visitor_messages_store_many(batch)
    finally:
        deferred_broadcasts.reset(token)
    return results, pending


def _one_conversation_each(tenant, other_tenant) -> tuple[Conversation, Conversation]:
    with tenant_context(tenant):
        mine = ConversationFactory()
    with tenant_context(other_tenant):
        theirs = ConversationFactory()
    return mine, theirs


@pytest.mark.django_db
def test_one_batch_stores_each_workspaces_sends_in_its_own_schema(
    tenant, other_tenant, django_capture_on_commit_callbacks
):
    mine, theirs = _one_conversation_each(tenant, other_tenant)
    assert mine.pk == theirs.pk  # the same ids in both: only the schema tells them apart

    results, pending = _store_many_heard(
        django_capture_on_commit_callbacks,
        [
            (tenant, [_send(mine, "acme one", "a-1"), _send(mine, "acme two", "a-2")]),
            (other_tenant, [_send(theirs, "globex one", "g-1")]),
        ],
    )

    acme, globex = results
    assert _acks(acme) == [(1, True), (2, True)]
    assert _acks(globex) == [(1, True)]
    with tenant_context(tenant):
        assert _bodies(mine) == [(1, "acme one"), (2, "acme two")]
        assert _ticket(mine).unread_count == 2
    with tenant_context(other_tenant):
        assert _bodies(theirs) == [(1, "globex one")]
        assert _ticket(theirs).unread_count == 1
    # Each workspace's agents hear their own messages, and only those.
    assert [f["message"]["body"] for f in _heard_by_agents(pending, tenant.schema_name)] == [
        "acme one",
        "acme two",
    ]
    assert [f["message"]["body"] for f in _heard_by_agents(pending, other_tenant.schema_name)] == [
        "globex one"
    ]
    assert {group.split(".")[0] for group, _ in pending} == {
        tenant.schema_name,
        other_tenant.schema_name,
    }


@pytest.mark.django_db
def test_a_workspace_whose_write_fails_fails_alone_and_leaves_nothing(
    tenant, other_tenant, django_capture_on_commit_callbacks
):
    mine, theirs = _one_conversation_each(tenant, other_tenant)
    # A real refusal from the database, in this workspace's table only.
    with tenant_context(other_tenant), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE chat_message ADD CONSTRAINT no_boom CHECK (body <> 'boom')")

    results, pending = _store_many_heard(
        django_capture_on_commit_callbacks,
        [
            (other_tenant, [_send(theirs, "fine", "g-1"), _send(theirs, "boom", "g-2")]),
            (tenant, [_send(mine, "still stored", "a-1")]),
        ],
    )

    failed, acme = results
    assert isinstance(failed, Exception) and "no_boom" in str(failed)
    assert _acks(acme) == [(1, True)]
    with tenant_context(tenant):
        assert _bodies(mine) == [(1, "still stored")]
    with tenant_context(other_tenant):
        # Nothing of the failed workspace's batch stayed, not even its good message.
        assert not Message.objects.exists()
        assert Conversation.objects.get(pk=theirs.pk).last_seq == 0
        assert _ticket(theirs).unread_count == 0
    # Only what committed is announced.
    assert {group.split(".")[0] for group, _ in pending} == {tenant.schema_name}

    # The failed workspace's sends, retried without the refused one, are stored once.
    results, _ = _store_many_heard(
        django_capture_on_commit_callbacks, [(other_tenant, [_send(theirs, "fine", "g-1")])]
    )
    assert _acks(results[0]) == [(1, True)]


def _started_rows(conversation_id: int) -> dict[str, Any]:
    """A started chat's rows, without what differs between two starts of the same chat (ids,
    clock readings, the visitor's secret key, the ticket's number)."""
    conversation = Conversation.objects.values().get(pk=conversation_id)
    contact = Contact.objects.values().get(pk=conversation["contact_id"])
    ticket = Ticket.objects.values().get(pk=conversation["ticket_id"])
    messages = Message.objects.filter(conversation_id=conversation_id).values()

    def strip(row: dict[str, Any], *keys: str) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in keys}

    clocks = ("id", "created_at", "last_activity_at", "last_seen_at")
    return {
        "contact": strip(contact, *clocks, "visitor_key"),
        "ticket": strip(ticket, *clocks, "number", "requester_id"),
        "conversation": strip(conversation, *clocks, "contact_id", "ticket_id"),
        "messages": [strip(m, *clocks, "conversation_id") for m in messages],
    }


@pytest.mark.django_db
def test_a_first_message_in_the_batch_leaves_the_rows_a_start_one_at_a_time_leaves(tenant):
    send = _first("Olá, tem tamanho 40?", "f-1")
    with tenant_context(tenant):
        try:
            with transaction.atomic():
                (outcome,) = visitor_messages_store([send])
                assert outcome.state is not None and outcome.state.conversation_id is not None
                batched = _started_rows(outcome.state.conversation_id)
                number = Ticket.objects.get().number
                raise _Undo
        except _Undo:
            pass
        assert not Contact.objects.exists() and not Ticket.objects.exists()

        one = visitor_socket_send(
            state=VisitorState(context=send.context or PageContext()),
            ip=send.ip,
            conversation_id=None,
            client_message_id=send.client_message_id,
            body=send.body,
            attachments=None,
        )
        assert one.state.conversation_id is not None
        assert _started_rows(one.state.conversation_id) == batched
        # Both drew their ticket number from the workspace's sequence, one after the other.
        assert Ticket.objects.get().number == number + 1
