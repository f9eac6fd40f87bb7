"""Who the widget's visitor is (signed identities), and what they see live: typing, receipts,
whether anyone is online."""

from __future__ import annotations

import time

from django_tenants.utils import tenant_context

from chat.identity import identity_signature
from chat.selectors.widget import widget_settings_get
from helpdesk.contacts.models import Contact
from tenants.agents.models import User
from tests.chat.widget_client import (
    frame_where,
    frames_until,
    of_type,
    send,
    visitor_open,
)
from tests.helpdesk.realtime.wsclient import receive, run, session_cookie, socket


def _identity(tenant, *, external_id="42", email="ana@example.com", name="Ana", age=0, secret=None):
    with tenant_context(tenant):
        secret = secret or widget_settings_get().identity_secret
    timestamp = int(time.time()) - age
    return {
        "id": external_id,
        "email": email,
        "name": name,
        "timestamp": timestamp,
        "signature": identity_signature(
            secret=secret, timestamp=timestamp, external_id=external_id, email=email, name=name
        ),
    }


def test_a_verified_shopper_sees_their_history_on_another_device(workspaces):
    a, _ = workspaces

    identity = _identity(a.tenant)

    async def phone():
        sock, ready, _ = await visitor_open(a.host, identity=identity)
        await send(
            sock, {"type": "message.send", "client_message_id": "p1", "body": "from my phone"}
        )
        await frames_until(sock, "ack")
        await sock.disconnect()
        return ready

    async def laptop():
        # A new device: no token, only the store's signed identity.
        sock, ready, batch = await visitor_open(a.host, identity=identity)
        await sock.disconnect()
        return ready, batch

    first = run(phone())
    ready, batch = run(laptop())

    assert first["visitor"] == {"name": "Ana", "email": "ana@example.com", "verified": True}
    assert ready["visitor"]["verified"] is True
    assert [m["body"] for m in batch["messages"]] == ["from my phone"]
    with tenant_context(a.tenant):
        assert Contact.objects.filter(identity_verified=True, external_id="42").count() == 1


def test_forged_or_stale_identities_are_ignored_and_reported(workspaces):
    a, _ = workspaces

    genuine = _identity(a.tenant)

    async def owner_writes():
        sock, _, _ = await visitor_open(a.host, identity=genuine)
        await send(
            sock, {"type": "message.send", "client_message_id": "o1", "body": "my address is ..."}
        )
        await frames_until(sock, "ack")
        await sock.disconnect()

    async def attacker(identity):
        sock, ready, batch = await visitor_open(a.host, identity=identity)
        error = await receive(sock)
        await sock.disconnect()
        return ready, batch, error

    run(owner_writes())
    forged = _identity(a.tenant, secret="0" * 64)
    stale = _identity(a.tenant, age=16 * 60)
    tampered = {**_identity(a.tenant), "name": "Mallory"}

    for identity, reason in ((forged, "not valid"), (stale, "expired"), (tampered, "not valid")):
        ready, batch, error = run(attacker(identity))
        assert ready["visitor"] is None and ready["conversation"] is None and batch is None
        assert error["code"] == "identity_rejected" and reason in error["message"]
    with tenant_context(a.tenant):
        assert Contact.objects.get().name == "Ana"


def test_an_identity_signed_with_another_workspaces_secret_is_refused(workspaces):
    a, b = workspaces

    foreign = _identity(b.tenant)

    async def attempt():
        sock, ready, _ = await visitor_open(a.host, identity=foreign)
        error = await receive(sock)
        await sock.disconnect()
        return ready, error

    ready, error = run(attempt())

    assert ready["visitor"] is None and error["code"] == "identity_rejected"


def test_presence_typing_and_read_receipts_travel_both_ways(workspaces):
    a, _ = workspaces
    cookie = session_cookie(a.tenant, a.sam)
    with tenant_context(a.tenant):
        User.objects.filter(pk=a.sam.pk).update(status="online")

    async def scenario():
        visitor, ready, _ = await visitor_open(a.host)
        offline_before = ready["online"]
        agent = socket(a.host, cookie=cookie)
        assert (await agent.connect(timeout=5))[0]
        await receive(agent)
        presence = await receive(visitor)
        await send(visitor, {"type": "message.send", "client_message_id": "v1", "body": "hello?"})
        session = of_type(await frames_until(visitor, "ack"), "session")[0]
        conversation_id = session["conversation"]["id"]
        await frames_until(agent, "message")
        await send(visitor, {"type": "typing", "is_typing": True})
        visitor_typing = (await frames_until(agent, "typing"))[-1]
        await send(agent, {"type": "typing", "conversation_id": conversation_id, "is_typing": True})
        agent_typing = (await frames_until(visitor, "typing"))[-1]
        await send(agent, {"type": "read", "conversation_id": conversation_id, "seq": 1})
        receipt = (await frames_until(visitor, "conversation"))[-1]
        await send(
            agent,
            {
                "type": "message.send",
                "conversation_id": conversation_id,
                "client_message_id": "a1",
                "body": "Hi!",
            },
        )
        await frames_until(visitor, "message")
        await send(visitor, {"type": "read", "seq": 2})
        seen = await frame_where(
            agent,
            lambda f: (
                f["type"] == "conversation.updated"
                and f["conversation"]["visitor_last_read_seq"] == 2
            ),
        )
        await agent.disconnect()
        gone = await receive(visitor)
        await visitor.disconnect()
        return (
            offline_before,
            presence,
            visitor_typing,
            agent_typing,
            receipt,
            seen,
            gone,
            conversation_id,
        )

    offline_before, presence, visitor_typing, agent_typing, receipt, seen, gone, cid = run(
        scenario()
    )

    assert offline_before is False
    assert presence == {"type": "presence", "online": True}
    assert visitor_typing == {
        "type": "typing",
        "conversation_id": cid,
        "is_typing": True,
        "who": "visitor",
    }
    assert agent_typing == {"type": "typing", "is_typing": True, "agent": {"name": "Sam at Acme"}}
    assert receipt["conversation"]["agent_last_read_seq"] == 1
    assert seen["conversation"]["visitor_last_read_seq"] == 2
    assert seen["conversation"]["agent_unread_count"] == 0
    assert gone == {"type": "presence", "online": False}


def test_an_offline_visitor_leaves_an_email_and_the_chat_still_reaches_the_inbox(workspaces):
    a, _ = workspaces

    async def scenario():
        visitor, ready, _ = await visitor_open(a.host)
        await send(visitor, {"type": "message.send", "client_message_id": "v1", "body": "Anyone?"})
        await frames_until(visitor, "ack")
        await send(visitor, {"type": "email", "email": "not-an-email"})
        refused = await receive(visitor)
        await send(visitor, {"type": "email", "email": "Ana@Example.com"})
        saved = await receive(visitor)
        await visitor.disconnect()
        return ready, refused, saved

    ready, refused, saved = run(scenario())

    assert ready["online"] is False and ready["reply_time_minutes"] == 120
    assert refused["code"] == "invalid_email"
    assert saved == {"type": "email.saved"}
    with tenant_context(a.tenant):
        contact = Contact.objects.get()
        assert contact.email == "ana@example.com"
        assert contact.conversations.get().messages.get().body == "Anyone?"


def test_prechat_answers_are_required_when_the_merchant_says_so(workspaces):
    a, _ = workspaces
    with tenant_context(a.tenant):
        settings = widget_settings_get()
        settings.ask_email = "required"
        settings.custom_fields = [{"key": "order", "label": "Order number", "required": True}]
        settings.save()

    async def scenario():
        visitor, _, _ = await visitor_open(a.host)
        await send(visitor, {"type": "start", "prechat": {"name": "Ana"}})
        no_email = await receive(visitor)
        await send(
            visitor, {"type": "start", "prechat": {"name": "Ana", "email": "ana@example.com"}}
        )
        no_order = await receive(visitor)
        await send(
            visitor,
            {
                "type": "start",
                "prechat": {
                    "name": "<img src=x onerror=alert(1)>",
                    "email": "ana@example.com",
                    "fields": {"order": "#1234", "unknown": "ignored"},
                },
            },
        )
        session = await receive(visitor)
        await visitor.disconnect()
        return no_email, no_order, session

    no_email, no_order, session = run(scenario())

    assert no_email["code"] == "email_required"
    assert no_order["code"] == "field_required" and "Order number" in no_order["message"]
    assert session["type"] == "session" and session["token"]
    with tenant_context(a.tenant):
        contact = Contact.objects.get()
        assert contact.name == "<img src=x onerror=alert(1)>"  # stored as text, rendered as text
        assert contact.custom_attributes == {"order": "#1234"}
        assert contact.conversations.get().started_context["fields"] == {"order": "#1234"}
