"""The widget socket (docs/chat-protocol.md) end to end through the real ASGI app and Redis."""

from __future__ import annotations

from django.test import override_settings
from django_tenants.utils import tenant_context

from chat.models import Conversation, Message
from chat.services.messages import message_create
from helpdesk.contacts.models import Contact
from tests.chat.widget_client import (
    frames_until,
    nothing_more,
    of_type,
    send,
    visitor_open,
    visitor_socket,
)
from tests.helpdesk.realtime.wsclient import receive, run, session_cookie, socket


def _messages(tenant) -> list[tuple[int, str, str]]:
    with tenant_context(tenant):
        return list(
            Message.objects.order_by("conversation_id", "seq").values_list(
                "conversation_id", "sender_kind", "body"
            )
        )


def _agent_reply(tenant, conversation_id: int, body: str, *, agent, internal=False) -> int:
    with tenant_context(tenant):
        conversation = Conversation.objects.get(pk=conversation_id)
        return message_create(
            conversation=conversation,
            sender_kind="agent",
            sender_agent=agent,
            body=body,
            is_internal=internal,
        ).message.seq


def test_first_message_starts_a_conversation_the_agent_sees_live(workspaces):
    a, _ = workspaces
    cookie = session_cookie(a.tenant, a.sam)

    async def scenario():
        agent = socket(a.host, cookie=cookie)
        assert (await agent.connect(timeout=5))[0]
        await receive(agent)  # hello
        visitor, ready, batch = await visitor_open(a.host)
        await send(
            visitor,
            {
                "type": "message.send",
                "client_message_id": "m-1",
                "body": "Hallo, wo ist mein Paket?",
            },
        )
        visitor_frames = await frames_until(visitor, "ack")
        agent_frames = await frames_until(agent, "message")
        await visitor.disconnect()
        await agent.disconnect()
        return ready, batch, visitor_frames, agent_frames

    ready, batch, visitor_frames, agent_frames = run(scenario())

    assert ready["token"] is None and ready["conversation"] is None and batch is None
    session = of_type(visitor_frames, "session")[0]
    assert session["token"] and session["conversation"]["status"] == "open"
    ack = of_type(visitor_frames, "ack")[0]
    assert ack == {
        "type": "ack",
        "client_message_id": "m-1",
        "seq": 1,
        "message_id": ack["message_id"],
        "created": True,
        "conversation": session["conversation"],
    }
    event = agent_frames[-1]
    assert event["conversation_id"] == session["conversation"]["id"]
    assert event["message"]["body"] == "Hallo, wo ist mein Paket?"
    assert event["message"]["sender_kind"] == "customer"
    assert event["conversation"]["agent_unread_count"] == 1
    assert event["conversation"]["contact"]["name"].startswith("Visitor")
    assert _messages(a.tenant) == [
        (session["conversation"]["id"], "customer", "Hallo, wo ist mein Paket?")
    ]
    with tenant_context(a.tenant):
        contact = Contact.objects.get()
        assert contact.timezone == "Europe/Berlin"
        assert contact.country == "DE"
        assert contact.last_page_url == "https://shop.example/p/1"


def test_agent_reply_reaches_the_visitor_and_internal_notes_never_do(workspaces):
    a, _ = workspaces
    cookie = session_cookie(a.tenant, a.sam)

    async def scenario():
        visitor, _, _ = await visitor_open(a.host)
        await send(visitor, {"type": "message.send", "client_message_id": "m-1", "body": "Hi"})
        frames = await frames_until(visitor, "ack")
        conversation_id = of_type(frames, "session")[0]["conversation"]["id"]
        agent = socket(a.host, cookie=cookie)
        assert (await agent.connect(timeout=5))[0]
        await receive(agent)
        await send(
            agent,
            {
                "type": "message.send",
                "conversation_id": conversation_id,
                "client_message_id": "a-1",
                "body": "Note: VIP",
                "is_internal": True,
            },
        )
        await send(
            agent,
            {
                "type": "message.send",
                "conversation_id": conversation_id,
                "client_message_id": "a-2",
                "body": "Hello! Checking now.",
            },
        )
        agent_frames = await frames_until(agent, "ack")
        agent_frames += await frames_until(agent, "ack")
        seen = await frames_until(visitor, "message")
        extra = await nothing_more(visitor)
        await visitor.disconnect()
        await agent.disconnect()
        return agent_frames, seen, extra

    agent_frames, seen, extra = run(scenario())

    acks = of_type(agent_frames, "ack")
    assert [ack["seq"] for ack in acks] == [2, 3]
    message = seen[-1]["message"]
    assert message["body"] == "Hello! Checking now."
    assert message["sender_kind"] == "agent"
    assert message["author"]["name"] == "Sam at Acme"
    assert "is_internal" not in message
    assert not any(f.get("message", {}).get("body") == "Note: VIP" for f in seen)
    assert extra  # nothing else arrived: the note stayed with the agents


def test_reconnect_replays_what_was_missed_in_order_without_notes(workspaces):
    a, _ = workspaces

    async def visit(token, last_seq):
        visitor, ready, batch = await visitor_open(a.host, token=token, last_seq=last_seq)
        await visitor.disconnect()
        return ready, batch

    async def scenario():
        visitor, _, _ = await visitor_open(a.host)
        frames = []
        for n in range(1, 4):
            await send(
                visitor, {"type": "message.send", "client_message_id": f"m-{n}", "body": f"q{n}"}
            )
            frames += await frames_until(visitor, "ack")
        await visitor.disconnect()
        return of_type(frames, "session")[0]

    session = run(scenario())
    conversation_id = session["conversation"]["id"]
    _agent_reply(a.tenant, conversation_id, "private note", agent=a.sam, internal=True)  # seq 4
    _agent_reply(a.tenant, conversation_id, "a1", agent=a.sam)  # seq 5
    _agent_reply(a.tenant, conversation_id, "a2", agent=a.sam)  # seq 6

    ready, missed = run(visit(session["token"], 2))
    _, latest = run(visit(session["token"], 0))

    assert ready["conversation"]["id"] == conversation_id
    assert ready["token"]
    assert missed["mode"] == "missed"
    assert [(m["seq"], m["body"]) for m in missed["messages"]] == [(3, "q3"), (5, "a1"), (6, "a2")]
    assert latest["mode"] == "latest"
    assert [m["body"] for m in latest["messages"]] == ["q1", "q2", "q3", "a1", "a2"]
    assert latest["older_available"] is False


def test_a_retried_send_is_stored_and_delivered_once(workspaces):
    a, _ = workspaces
    cookie = session_cookie(a.tenant, a.sam)

    async def scenario():
        agent = socket(a.host, cookie=cookie)
        assert (await agent.connect(timeout=5))[0]
        await receive(agent)
        visitor, _, _ = await visitor_open(a.host)
        frame = {"type": "message.send", "client_message_id": "same-1", "body": "Only once"}
        await send(visitor, frame)
        first = await frames_until(visitor, "ack")
        token = of_type(first, "session")[0]["token"]
        await visitor.disconnect()  # the connection dropped before the client saw the ack
        again, _, _ = await visitor_open(a.host, token=token, last_seq=0)
        await send(again, frame)
        second = await frames_until(again, "ack")
        agent_frames = await frames_until(agent, "message")
        quiet = await nothing_more(agent)
        await again.disconnect()
        await agent.disconnect()
        return of_type(first, "ack")[0], second[-1], agent_frames, quiet

    first, second, agent_frames, quiet = run(scenario())

    assert first["created"] is True and second["created"] is False
    assert first["seq"] == second["seq"] == 1
    assert len(of_type(agent_frames, "message")) == 1 and quiet
    assert len(_messages(a.tenant)) == 1


def test_a_visitor_cannot_reach_another_conversation(workspaces):
    a, _ = workspaces

    async def scenario():
        ana, _, _ = await visitor_open(a.host)
        await send(ana, {"type": "message.send", "client_message_id": "a", "body": "Ana here"})
        ana_frames = await frames_until(ana, "ack")
        ana_conversation = of_type(ana_frames, "session")[0]["conversation"]["id"]
        bob, _, _ = await visitor_open(a.host)
        await send(bob, {"type": "message.send", "client_message_id": "b", "body": "Bob here"})
        await frames_until(bob, "ack")
        # Bob names Ana's conversation in a send, a read and a history request.
        await send(
            bob,
            {
                "type": "message.send",
                "conversation_id": ana_conversation,
                "client_message_id": "b2",
                "body": "sneaky",
            },
        )
        refused = await receive(bob)
        await send(bob, {"type": "ping"})
        still_open = await receive(bob)
        ana_quiet = await nothing_more(ana)
        await ana.disconnect()
        await bob.disconnect()
        return refused, still_open, ana_quiet

    refused, still_open, ana_quiet = run(scenario())

    assert refused["type"] == "error" and refused["code"] == "forbidden"
    assert refused["client_message_id"] == "b2"
    assert still_open == {"type": "pong"}
    assert ana_quiet
    assert [body for _, _, body in _messages(a.tenant)] == ["Ana here", "Bob here"]


def test_a_token_from_another_workspace_is_worthless(workspaces):
    a, b = workspaces

    async def scenario():
        visitor, _, _ = await visitor_open(a.host)
        await send(
            visitor, {"type": "message.send", "client_message_id": "x", "body": "secret order 991"}
        )
        token = of_type(await frames_until(visitor, "ack"), "session")[0]["token"]
        await visitor.disconnect()
        # Same token, same conversation id 1, but on Globex's host.
        elsewhere, ready, batch = await visitor_open(b.host, token=token, last_seq=0)
        await send(
            elsewhere,
            {"type": "message.send", "conversation_id": 1, "client_message_id": "y", "body": "hi"},
        )
        refused = await receive(elsewhere)
        await elsewhere.disconnect()
        return ready, batch, refused

    ready, batch, refused = run(scenario())

    assert ready["token"] is None and ready["conversation"] is None and batch is None
    assert refused["code"] == "forbidden"
    assert _messages(b.tenant) == []
    assert [body for _, _, body in _messages(a.tenant)] == ["secret order 991"]


def test_bad_frames_get_errors_and_the_socket_stays_open(workspaces):
    a, _ = workspaces

    async def scenario():
        sock = visitor_socket(a.host)
        assert (await sock.connect(timeout=5))[0]
        answers = []
        await sock.send_to(text_data='{"type": "message.send", "body": "x"}')  # before auth
        answers.append(await receive(sock))
        await sock.send_to(text_data="{not json")
        answers.append(await receive(sock))
        await sock.send_to(text_data="[1, 2]")
        answers.append(await receive(sock))
        await sock.send_to(text_data='{"type": "launch.missiles"}')
        answers.append(await receive(sock))
        await sock.send_to(text_data='{"type": "ping", "pad": "' + "x" * 20_000 + '"}')
        answers.append(await receive(sock))
        await sock.send_to(bytes_data=b"\x00\x01")
        answers.append(await receive(sock))
        await sock.send_to(
            text_data='{"type": "auth", "token": "forged.token.value", "last_seq": "x"}'
        )
        ready = await receive(sock)
        for body in ("", "x" * 10_001, 42, None):
            await send(sock, {"type": "message.send", "client_message_id": "c1", "body": body})
            answers.append(await receive(sock))
        await send(sock, {"type": "message.send", "client_message_id": "bad id!", "body": "hi"})
        answers.append(await receive(sock))
        await send(sock, {"type": "ping"})
        pong = await receive(sock)
        await sock.disconnect()
        return answers, ready, pong

    answers, ready, pong = run(scenario())

    assert [a["code"] for a in answers] == [
        "not_authenticated",
        "bad_json",
        "bad_message",
        "unknown_type",
        "too_large",
        "bad_message",
        "empty",
        "too_long",
        "invalid_body",
        "invalid_body",
        "invalid_client_message_id",
    ]
    assert all(a["type"] == "error" and a["message"] for a in answers)
    assert ready["type"] == "ready" and ready["token"] is None
    assert pong == {"type": "pong"}
    assert _messages(a.tenant) == []
    with tenant_context(a.tenant):
        # The refused sends created nobody: a contact is made with the first stored message.
        assert not Contact.objects.exists()
        assert not Conversation.objects.exists()


@override_settings(WIDGET_RATE_MESSAGES_PER_VISITOR=(3, 60))
def test_too_many_messages_are_refused_with_a_clear_message(workspaces):
    a, _ = workspaces

    async def scenario():
        visitor, _, _ = await visitor_open(a.host)
        answers = []
        for n in range(5):
            await send(
                visitor, {"type": "message.send", "client_message_id": f"r{n}", "body": f"spam {n}"}
            )
            answers.append((await frames_until_any(visitor, ("ack", "error")))[-1])
        await visitor.disconnect()
        return answers

    async def frames_until_any(sock, kinds):
        seen = []
        while True:
            frame = await receive(sock)
            seen.append(frame)
            if frame["type"] in kinds:
                return seen

    answers = run(scenario())

    assert [x["type"] for x in answers] == ["ack", "ack", "ack", "error", "error"]
    limited = answers[3]
    assert limited["code"] == "rate_limited"
    assert 0 < limited["retry_after"] <= 60
    assert "too quickly" in limited["message"]
    assert limited["client_message_id"] == "r3"
    assert [body for _, _, body in _messages(a.tenant)] == ["spam 0", "spam 1", "spam 2"]


@override_settings(WIDGET_RATE_CONNECTIONS_PER_IP=(2, 60))
def test_too_many_connections_from_one_address_are_closed_with_a_reason(workspaces):
    a, _ = workspaces

    async def scenario():
        kept = []
        for _ in range(2):
            sock = visitor_socket(a.host)
            assert (await sock.connect(timeout=5))[0]
            kept.append(sock)
        third = visitor_socket(a.host)
        assert (await third.connect(timeout=5))[0]
        error = await receive(third)
        closed = await third.receive_output(timeout=5)
        for sock in kept:
            await send(sock, {"type": "ping"})
            assert await receive(sock) == {"type": "pong"}
            await sock.disconnect()
        return error, closed

    error, closed = run(scenario())

    assert error["code"] == "rate_limited" and "Too many chat connections" in error["message"]
    assert closed == {"type": "websocket.close", "code": 4429}


@override_settings(WIDGET_RATE_CONNECTIONS_PER_IP=(3, 60))
def test_one_visitor_reconnecting_too_often_is_slowed_down_from_any_network(workspaces):
    a, _ = workspaces

    async def scenario():
        first, _, _ = await visitor_open(a.host, ip="10.0.0.1")
        await send(first, {"type": "message.send", "client_message_id": "m", "body": "hi"})
        token = of_type(await frames_until(first, "ack"), "session")[0]["token"]
        await first.disconnect()
        answers = []
        for n in range(2, 6):  # a new address each time: only the visitor's budget applies
            sock = visitor_socket(a.host, ip=f"10.0.0.{n}")
            assert (await sock.connect(timeout=5))[0]
            await send(sock, {"type": "auth", "token": token, "last_seq": 1})
            answers.append(await receive(sock))
            await sock.disconnect()
        return answers

    answers = run(scenario())

    assert [x["type"] for x in answers] == ["ready", "ready", "ready", "error"]
    assert answers[-1]["code"] == "rate_limited" and answers[-1]["retry_after"] > 0


def test_sockets_from_other_sites_are_refused(workspaces):
    a, _ = workspaces

    async def scenario():
        sock = visitor_socket(a.host, origin="https://evil.example")
        connected, code = await sock.connect(timeout=5)
        return connected, code

    assert run(scenario()) == (False, 4403)


def test_a_page_outside_the_allowed_store_domains_is_refused(workspaces):
    a, _ = workspaces
    from chat.selectors.widget import widget_settings_get

    with tenant_context(a.tenant):
        settings = widget_settings_get()
        settings.allowed_domains = ["shop.example", "*.acme-store.example"]
        settings.save(update_fields=["allowed_domains"])

    async def attempt(url):
        sock = visitor_socket(a.host)
        assert (await sock.connect(timeout=5))[0]
        await send(sock, {"type": "auth", "token": None, "last_seq": 0, "page": {"url": url}})
        first = await receive(sock)
        if first["type"] == "ready":
            await sock.disconnect()
            return first, None
        closed = await sock.receive_output(timeout=5)
        return first, closed

    allowed, _ = run(attempt("https://www.acme-store.example/cart"))
    refused, closed = run(attempt("https://evil.example/phish"))

    assert allowed["type"] == "ready"
    assert refused["code"] == "origin_not_allowed"
    assert closed == {"type": "websocket.close", "code": 4403}


@override_settings(WIDGET_RATE_MESSAGES_PER_IP=(2, 60))
def test_one_workspaces_limits_never_spend_anothers_budget(workspaces):
    a, b = workspaces

    async def send_three(host):
        visitor, _, _ = await visitor_open(host, ip="10.9.9.9")
        answers = []
        for n in range(3):
            await send(
                visitor, {"type": "message.send", "client_message_id": f"x{n}", "body": "hi"}
            )
            frame = await receive(visitor)
            while frame["type"] not in ("ack", "error"):
                frame = await receive(visitor)
            answers.append(frame["type"])
        await visitor.disconnect()
        return answers

    assert run(send_three(a.host)) == ["ack", "ack", "error"]
    assert run(send_three(b.host)) == ["ack", "ack", "error"]


def test_a_client_that_missed_too_much_starts_again_from_the_newest_page(workspaces):
    a, _ = workspaces
    from chat.selectors.messages import REPLAY_MAX

    async def first_visit():
        visitor, _, _ = await visitor_open(a.host)
        await send(visitor, {"type": "message.send", "client_message_id": "m-1", "body": "q1"})
        session = of_type(await frames_until(visitor, "ack"), "session")[0]
        await visitor.disconnect()
        return session

    session = run(first_visit())
    with tenant_context(a.tenant):
        conversation = Conversation.objects.get(pk=session["conversation"]["id"])
        for n in range(REPLAY_MAX + 1):
            message_create(
                conversation=conversation, sender_kind="agent", sender_agent=a.sam, body=f"a{n}"
            )

    async def back():
        visitor, _, batch = await visitor_open(a.host, token=session["token"], last_seq=1)
        await visitor.disconnect()
        return batch

    batch = run(back())

    assert batch["mode"] == "latest"
    assert batch["older_available"] is True
    assert [m["body"] for m in batch["messages"]][-1] == f"a{REPLAY_MAX}"
    assert len(batch["messages"]) == 50
