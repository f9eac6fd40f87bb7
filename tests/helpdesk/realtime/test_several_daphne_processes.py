"""Two real daphne processes behind one Redis: a broadcast crosses processes, never workspaces."""

from __future__ import annotations

import asyncio
import json

import pytest
from django.conf import settings

from tests.daphne import Daphne
from tests.helpdesk.realtime.wsclient import run, session_cookie

websockets_client = pytest.importorskip("websockets.asyncio.client")


@pytest.fixture
def two_daphnes(workspaces, tmp_path):
    """Two daphne processes on the test database and the test Redis."""
    servers = [Daphne(log=tmp_path / f"daphne{i}.log", serve_static=False) for i in range(2)]
    try:
        for server in servers:
            server.start()
        yield [server.port for server in servers]
    finally:
        for server in servers:
            server.stop()


def _connect(port: int, host: str, cookie: str):
    return websockets_client.connect(
        f"ws://{host}:{port}/ws/agent/",
        host="127.0.0.1",
        port=port,
        origin=f"http://{host}:{port}",
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        proxy=None,
        open_timeout=20,
    )


async def _next(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout=20))


@pytest.mark.timeout(180)
def test_broadcast_crosses_processes_but_not_workspaces(workspaces, two_daphnes):
    a, b = workspaces
    port_1, port_2 = two_daphnes
    cookies = {
        "a_sam": session_cookie(a.tenant, a.sam),
        "a_owner": session_cookie(a.tenant, a.owner),
        "b_sam": session_cookie(b.tenant, b.sam),
    }

    async def scenario():
        async with (
            _connect(port_1, a.host, cookies["a_sam"]) as a_sam,
            _connect(port_2, a.host, cookies["a_owner"]) as a_owner,
            _connect(port_2, b.host, cookies["b_sam"]) as b_sam,
        ):
            hellos = [await _next(ws) for ws in (a_sam, a_owner, b_sam)]
            await a_sam.send(json.dumps({"type": "status", "status": "away"}))
            on_other_process = await _next(a_owner)
            await b_sam.send(json.dumps({"type": "status", "status": "online"}))
            b_next = await _next(b_sam)
            return hellos, on_other_process, b_next

    hellos, on_other_process, b_next = run(scenario())

    assert [(h["agent"]["name"], h["workspace"]["slug"]) for h in hellos] == [
        ("Sam at Acme", "acme"),
        ("Ann Acme", "acme"),
        ("Sam at Globex", "globex"),
    ]
    assert on_other_process["agent"] == {"id": a.sam.pk, "name": "Sam at Acme", "status": "away"}
    assert b_next["agent"] == {"id": b.sam.pk, "name": "Sam at Globex", "status": "online"}


def _visitor_connect(port: int, host: str):
    return websockets_client.connect(
        f"ws://{host}:{port}/ws/widget/",
        host="127.0.0.1",
        port=port,
        origin=f"http://{host}:{port}",
        proxy=None,
        open_timeout=20,
    )


async def _next_of(ws, kind: str) -> dict:
    while True:
        frame = await _next(ws)
        if frame["type"] == kind:
            return frame


@pytest.mark.timeout(180)
def test_a_visitor_on_one_process_and_an_agent_on_the_other_talk(workspaces, two_daphnes):
    a, _ = workspaces
    port_1, port_2 = two_daphnes
    cookie = session_cookie(a.tenant, a.sam)

    async def scenario():
        async with (
            _visitor_connect(port_1, a.host) as visitor,
            _connect(port_2, a.host, cookie) as agent,
        ):
            await _next(agent)  # hello
            await visitor.send(json.dumps({"type": "auth", "token": None, "last_seq": 0}))
            await _next_of(visitor, "ready")
            await visitor.send(
                json.dumps({"type": "message.send", "client_message_id": "v1", "body": "Hola"})
            )
            conversation_id = (await _next_of(visitor, "session"))["conversation"]["id"]
            heard_by_agent = await _next_of(agent, "message")
            await agent.send(
                json.dumps(
                    {
                        "type": "message.send",
                        "conversation_id": conversation_id,
                        "client_message_id": "a1",
                        "body": "¡Hola! ¿En qué puedo ayudarte?",
                    }
                )
            )
            heard_by_visitor = await _next_of(visitor, "message")
            while heard_by_visitor["message"]["sender_kind"] != "agent":
                heard_by_visitor = await _next_of(visitor, "message")
            return heard_by_agent, heard_by_visitor

    heard_by_agent, heard_by_visitor = run(scenario())

    assert heard_by_agent["message"]["body"] == "Hola"
    assert heard_by_visitor["message"]["body"] == "¡Hola! ¿En qué puedo ayudarte?"
    assert heard_by_visitor["message"]["seq"] == 2
