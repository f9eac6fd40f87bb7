"""The agent socket: who may open it, what it sees, and that two workspaces never mix."""

from __future__ import annotations

import asyncio

from channels.layers import get_channel_layer
from django.contrib.sessions.models import Session
from django_tenants.utils import tenant_context

from helpdesk.realtime.db import tenant_db
from helpdesk.realtime.groups import agents_group
from helpdesk.realtime.services import agent_sockets_close
from tenants.agents.models import User
from tenants.services.operator import tenant_suspend
from tests.helpdesk.realtime.wsclient import SHARED_EMAIL, receive, run, session_cookie, socket


def _status_of(tenant, user_id):
    with tenant_context(tenant):
        return User.objects.get(pk=user_id).status


def _session_count(tenant):
    with tenant_context(tenant):
        return Session.objects.count()


def test_each_socket_sees_only_its_own_workspace(workspaces):
    a, b = workspaces
    cookie_a, cookie_b = session_cookie(a.tenant, a.sam), session_cookie(b.tenant, b.sam)

    async def scenario():
        sock_a, sock_b = socket(a.host, cookie=cookie_a), socket(b.host, cookie=cookie_b)
        assert (await sock_a.connect(timeout=5))[0]
        assert (await sock_b.connect(timeout=5))[0]
        hellos = await receive(sock_a), await receive(sock_b)
        await sock_a.disconnect()
        await sock_b.disconnect()
        return hellos

    hello_a, hello_b = run(scenario())

    assert hello_a == {
        "type": "hello",
        "agent": {
            "id": a.sam.pk,
            "name": "Sam at Acme",
            "email": SHARED_EMAIL,
            "role": "agent",
            "status": "online",
        },
        "workspace": {"name": "Acme", "slug": "acme"},
    }
    assert hello_b["agent"]["name"] == "Sam at Globex"
    assert hello_b["agent"]["id"] == a.sam.pk
    assert hello_b["workspace"] == {"name": "Globex", "slug": "globex"}


def test_session_cookie_from_another_workspace_is_refused(workspaces):
    a, b = workspaces
    cookie_a = session_cookie(a.tenant, a.sam)
    sessions_in_b = _session_count(b.tenant)

    async def scenario():
        on_b = socket(b.host, cookie=cookie_a)
        refused = await on_b.connect(timeout=5)
        on_a = socket(a.host, cookie=cookie_a)
        accepted = await on_a.connect(timeout=5)
        await on_a.disconnect()
        return refused, accepted

    refused, accepted = run(scenario())

    assert refused == (False, 4401)
    assert accepted[0] is True  # the cookie itself is fine, on its own workspace
    assert _session_count(b.tenant) == sessions_in_b


def test_unknown_or_malformed_host_is_refused(workspaces):
    a, _ = workspaces
    cookie_a = session_cookie(a.tenant, a.sam)

    async def scenario():
        results = []
        for host in ("nowhere.localhost", "acme.localhost.evil.example", "bad host!"):
            comm = socket(host, cookie=cookie_a, origin=f"http://{a.host}")
            results.append(await comm.connect(timeout=5))
        return results

    assert run(scenario()) == [(False, 4404)] * 3


def test_host_is_matched_like_http_port_and_case_ignored(workspaces):
    a, _ = workspaces
    cookie_a = session_cookie(a.tenant, a.sam)

    async def scenario():
        comm = socket(a.host.upper(), cookie=cookie_a, origin=f"http://{a.host}")
        connected = await comm.connect(timeout=5)
        hello = await receive(comm)
        await comm.disconnect()
        return connected, hello

    connected, hello = run(scenario())
    assert connected[0] is True
    assert hello["workspace"]["slug"] == "acme"


def test_public_site_has_no_agent_socket(workspaces):
    async def scenario():
        return await socket("localhost").connect(timeout=5)

    assert run(scenario()) == (False, 4404)


def test_suspended_workspace_is_refused(workspaces):
    a, _ = workspaces
    cookie_a = session_cookie(a.tenant, a.sam)
    tenant_suspend(tenant=a.tenant)

    async def scenario():
        return await socket(a.host, cookie=cookie_a).connect(timeout=5)

    assert run(scenario()) == (False, 4503)


def test_only_the_workspace_own_pages_may_open_the_socket(workspaces):
    a, b = workspaces
    cookie_a = session_cookie(a.tenant, a.sam)

    async def scenario():
        results = []
        for origin in (f"http://{b.host}:8000", "https://evil.example", "null", None):
            results.append(await socket(a.host, cookie=cookie_a, origin=origin).connect(timeout=5))
        return results

    assert run(scenario()) == [(False, 4403)] * 4


def test_signed_out_or_deactivated_agent_is_refused(workspaces):
    a, _ = workspaces
    cookie_a = session_cookie(a.tenant, a.sam)
    with tenant_context(a.tenant):
        User.objects.filter(pk=a.sam.pk).update(is_active=False)

    async def scenario():
        return [
            await socket(a.host).connect(timeout=5),
            await socket(a.host, cookie="not-a-session").connect(timeout=5),
            await socket(a.host, cookie=cookie_a).connect(timeout=5),
        ]

    assert run(scenario()) == [(False, 4401)] * 3


def test_unknown_path_is_refused(workspaces):
    a, _ = workspaces
    cookie_a = session_cookie(a.tenant, a.sam)

    async def scenario():
        return await socket(a.host, cookie=cookie_a, path="/ws/nothing/").connect(timeout=5)

    assert run(scenario()) == (False, 4404)


def test_ping_and_bad_frames_keep_the_connection(workspaces):
    a, _ = workspaces
    cookie_a = session_cookie(a.tenant, a.sam)

    async def scenario():
        comm = socket(a.host, cookie=cookie_a)
        await comm.connect(timeout=5)
        await receive(comm)  # hello
        frames = []
        for text in (
            '{"type": "ping"}',
            "{not json",
            "[1, 2]",
            '{"type": "teleport"}',
            '{"type": "status", "status": "on holiday"}',
            '{"type": "status", "status": ["online"]}',
            '{"type": "status"}',
            '{"type": "ping"}',
        ):
            await comm.send_to(text_data=text)
            frames.append(await receive(comm))
        await comm.send_to(bytes_data=b"\x00\x01")
        frames.append(await receive(comm))
        await comm.send_to(text_data='{"type": "ping", "pad": "' + "x" * 20_000 + '"}')
        frames.append(await receive(comm))
        await comm.disconnect()
        return frames

    frames = run(scenario())

    codes = [f.get("code") or f["type"] for f in frames]
    assert codes == [
        "pong",
        "bad_json",
        "bad_message",
        "unknown_type",
        "invalid_status",
        "invalid_status",
        "invalid_status",
        "pong",
        "bad_frame",
        "too_large",
    ]
    assert all(f["message"] for f in frames if f["type"] == "error")
    assert _status_of(a.tenant, a.sam.pk) == "online"


def test_status_change_reaches_own_workspace_agents_only(workspaces):
    a, b = workspaces
    cookies = {
        "a_sam": session_cookie(a.tenant, a.sam),
        "a_owner": session_cookie(a.tenant, a.owner),
        "b_sam": session_cookie(b.tenant, b.sam),
    }

    async def scenario():
        a_sam = socket(a.host, cookie=cookies["a_sam"])
        a_owner = socket(a.host, cookie=cookies["a_owner"])
        b_sam = socket(b.host, cookie=cookies["b_sam"])
        for comm in (a_sam, a_owner, b_sam):
            assert (await comm.connect(timeout=5))[0]
            await receive(comm)  # hello
        await a_sam.send_json_to({"type": "status", "status": "away"})
        seen_by_a_sam, seen_by_a_owner = await receive(a_sam), await receive(a_owner)
        # B's own change comes after A's on the same Redis connection: if A's broadcast had
        # leaked to B it would be B's next frame.
        await b_sam.send_json_to({"type": "status", "status": "online"})
        seen_by_b_sam = await receive(b_sam)
        for comm in (a_sam, a_owner, b_sam):
            await comm.disconnect()
        return seen_by_a_sam, seen_by_a_owner, seen_by_b_sam

    seen_by_a_sam, seen_by_a_owner, seen_by_b_sam = run(scenario())

    expected_a = {
        "type": "agent.status",
        "agent": {"id": a.sam.pk, "name": "Sam at Acme", "status": "away"},
    }
    assert seen_by_a_sam == expected_a
    assert seen_by_a_owner == expected_a
    assert seen_by_b_sam == {
        "type": "agent.status",
        "agent": {"id": b.sam.pk, "name": "Sam at Globex", "status": "online"},
    }
    assert _status_of(a.tenant, a.sam.pk) == "away"
    assert _status_of(b.tenant, b.sam.pk) == "online"


def test_group_broadcast_is_not_received_by_another_workspace(workspaces):
    a, b = workspaces
    cookie_a, cookie_b = session_cookie(a.tenant, a.sam), session_cookie(b.tenant, b.sam)
    event = {"type": "agent.status", "agent": {"id": a.sam.pk, "name": "x", "status": "away"}}
    marker = {"type": "agent.status", "agent": {"id": 0, "name": "marker", "status": "online"}}

    async def scenario():
        sock_a, sock_b = socket(a.host, cookie=cookie_a), socket(b.host, cookie=cookie_b)
        for comm in (sock_a, sock_b):
            await comm.connect(timeout=5)
            await receive(comm)
        layer = get_channel_layer()
        await layer.group_send(agents_group(a.tenant.schema_name), event)
        await layer.group_send(agents_group(b.tenant.schema_name), marker)
        got_a, got_b = await receive(sock_a), await receive(sock_b)
        for comm in (sock_a, sock_b):
            await comm.disconnect()
        return got_a, got_b

    got_a, got_b = run(scenario())
    assert got_a["agent"]["name"] == "x"
    assert got_b["agent"]["name"] == "marker"


def test_deactivated_while_connected_cannot_change_status(workspaces):
    a, _ = workspaces
    cookie_a = session_cookie(a.tenant, a.sam)

    async def scenario(deactivate):
        comm = socket(a.host, cookie=cookie_a)
        await comm.connect(timeout=5)
        await receive(comm)
        await deactivate()
        await comm.send_json_to({"type": "status", "status": "away"})
        closed = await comm.receive_output(timeout=5)
        await comm.disconnect(code=4401, timeout=5)
        return closed

    async def deactivate():
        await tenant_db(a.tenant, lambda: User.objects.filter(pk=a.sam.pk).update(is_active=False))

    closed = run(scenario(deactivate))
    assert closed == {"type": "websocket.close", "code": 4401}
    assert _status_of(a.tenant, a.sam.pk) == "online"


def test_interleaved_sockets_on_the_shared_db_thread_never_cross(workspaces):
    """Consumers of both workspaces take turns on one DB thread and one connection.

    Under asyncio.run() every thread-sensitive database_sync_to_async call runs in Channels'
    single worker thread, so A's and B's calls alternate on the same connection, as in daphne.
    """
    a, b = workspaces
    cookie_a, cookie_b = session_cookie(a.tenant, a.sam), session_cookie(b.tenant, b.sam)
    rounds = 12

    async def one_connect(ws, cookie):
        comm = socket(ws.host, cookie=cookie)
        await comm.connect(timeout=10)
        hello = await receive(comm, timeout=10)
        await comm.disconnect()
        return hello

    async def scenario():
        hellos = []
        for _ in range(rounds):
            hellos += await asyncio.gather(one_connect(a, cookie_a), one_connect(b, cookie_b))
        sock_a, sock_b = socket(a.host, cookie=cookie_a), socket(b.host, cookie=cookie_b)
        for comm in (sock_a, sock_b):
            await comm.connect(timeout=10)
            await receive(comm)
        updates = []
        for i in range(rounds):
            status_a, status_b = ("away", "online") if i % 2 else ("online", "away")
            await asyncio.gather(
                sock_a.send_json_to({"type": "status", "status": status_a}),
                sock_b.send_json_to({"type": "status", "status": status_b}),
            )
            got = await asyncio.gather(receive(sock_a, 10), receive(sock_b, 10))
            updates.append((status_a, status_b, *got))
        for comm in (sock_a, sock_b):
            await comm.disconnect()
        return hellos, updates

    hellos, updates = run(scenario())

    assert len(hellos) == 2 * rounds
    for i, hello in enumerate(hellos):
        expected = ("Sam at Acme", "acme") if i % 2 == 0 else ("Sam at Globex", "globex")
        assert (hello["agent"]["name"], hello["workspace"]["slug"]) == expected
    for status_a, status_b, got_a, got_b in updates:
        assert got_a["agent"] == {"id": a.sam.pk, "name": "Sam at Acme", "status": status_a}
        assert got_b["agent"] == {"id": b.sam.pk, "name": "Sam at Globex", "status": status_b}
    last_a, last_b = updates[-1][0], updates[-1][1]
    assert _status_of(a.tenant, a.sam.pk) == last_a
    assert _status_of(b.tenant, b.sam.pk) == last_b


def test_closing_an_agents_sockets_spares_the_same_id_elsewhere(workspaces):
    a, b = workspaces
    cookies = {
        "a_sam": session_cookie(a.tenant, a.sam),
        "a_owner": session_cookie(a.tenant, a.owner),
        "b_sam": session_cookie(b.tenant, b.sam),
    }

    async def scenario():
        socks = {
            name: socket(ws.host, cookie=cookies[name])
            for name, ws in (("a_sam", a), ("a_owner", a), ("b_sam", b))
        }
        for comm in socks.values():
            await comm.connect(timeout=5)
            await receive(comm)
        await tenant_db(a.tenant, agent_sockets_close, agent_id=a.sam.pk)
        closed = await socks["a_sam"].receive_output(timeout=5)
        # Still open: they answer a ping.
        alive = {}
        for name in ("a_owner", "b_sam"):
            await socks[name].send_json_to({"type": "ping"})
            alive[name] = await receive(socks[name])
            await socks[name].disconnect()
        await socks["a_sam"].disconnect(code=4401, timeout=5)
        return closed, alive

    closed, alive = run(scenario())
    assert closed == {"type": "websocket.close", "code": 4401}
    assert alive == {"a_owner": {"type": "pong"}, "b_sam": {"type": "pong"}}


def test_deactivating_an_agent_closes_their_open_socket_at_once(workspaces):
    from tenants.agents.services.members import agent_deactivate

    a, _ = workspaces
    cookie = session_cookie(a.tenant, a.sam)

    async def scenario():
        comm = socket(a.host, cookie=cookie)
        await comm.connect(timeout=5)
        await receive(comm)
        await tenant_db(a.tenant, agent_deactivate, actor=a.owner, agent=a.sam)
        # No frame sent by the agent: the server closes the socket on its own.
        closed = await comm.receive_output(timeout=5)
        await comm.disconnect(code=4401, timeout=5)
        return closed

    assert run(scenario()) == {"type": "websocket.close", "code": 4401}
    assert _session_count(a.tenant) == 0
