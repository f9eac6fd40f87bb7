"""Chat frames on the agent socket: replies, notes, reads, and never another workspace's data."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from chat.models import Message
from chat.services.messages import message_create
from tests.chat.widget_client import frame_where, frames_until, nothing_more, send
from tests.factories import ConversationFactory
from tests.helpdesk.realtime.wsclient import receive, run, session_cookie, socket


def _conversation(tenant, body="hi") -> int:
    with tenant_context(tenant):
        conversation = ConversationFactory()
        message_create(conversation=conversation, sender_kind="customer", body=body)
        return conversation.pk


def test_agent_frames_naming_another_workspaces_conversation_find_nothing(workspaces):
    a, b = workspaces
    ours = _conversation(a.tenant, "acme customer")
    theirs = _conversation(b.tenant, "globex customer")
    assert ours == theirs  # same id in both workspaces
    cookie = session_cookie(b.tenant, b.sam)

    async def scenario():
        agent = socket(b.host, cookie=cookie)
        assert (await agent.connect(timeout=5))[0]
        await receive(agent)
        answers = []
        for frame in (
            {
                "type": "message.send",
                "conversation_id": 999,
                "client_message_id": "x",
                "body": "hi",
            },
            {"type": "read", "conversation_id": 999, "seq": 1},
            {"type": "typing", "conversation_id": "1; DROP TABLE", "is_typing": True},
            {
                "type": "message.send",
                "conversation_id": theirs,
                "client_message_id": "ok",
                "body": "Globex reply",
            },
        ):
            await send(agent, frame)
            # The accepted send is also broadcast back to the agents; its ack is the answer.
            answers.append(await frame_where(agent, lambda f: f["type"] in ("ack", "error")))
        await agent.disconnect()
        return answers

    missing, read, typing, ok = run(scenario())

    assert missing["code"] == read["code"] == typing["code"] == "not_found"
    assert missing["client_message_id"] == "x"
    assert ok["type"] == "ack" and ok["conversation_id"] == theirs and ok["created"] is True
    with tenant_context(a.tenant):
        assert list(Message.objects.values_list("body", flat=True)) == ["acme customer"]
    with tenant_context(b.tenant):
        assert sorted(Message.objects.values_list("body", flat=True)) == [
            "Globex reply",
            "globex customer",
        ]


def test_agents_of_one_workspace_never_hear_another(workspaces):
    a, b = workspaces
    cookie_a, cookie_b = session_cookie(a.tenant, a.sam), session_cookie(b.tenant, b.sam)
    conversation = _conversation(a.tenant)

    async def scenario():
        agent_a, agent_b = socket(a.host, cookie=cookie_a), socket(b.host, cookie=cookie_b)
        for sock in (agent_a, agent_b):
            assert (await sock.connect(timeout=5))[0]
            await receive(sock)
        await send(
            agent_a,
            {
                "type": "message.send",
                "conversation_id": conversation,
                "client_message_id": "m",
                "body": "secret",
            },
        )
        heard = await frames_until(agent_a, "message")
        quiet = await nothing_more(agent_b, 0.5)
        await agent_a.disconnect()
        await agent_b.disconnect()
        return heard, quiet

    heard, quiet = run(scenario())

    assert heard[-1]["message"]["body"] == "secret"
    assert quiet
