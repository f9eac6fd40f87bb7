"""The benchmark's floor: a relay that exists only when BENCH_RELAY_ENABLED is set."""

from __future__ import annotations

import uuid

from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from helpdesk.realtime.bench_relay import CLOSE_BAD_REQUEST, bench_relay_routes
from tests.factories import host_of
from tests.helpdesk.realtime.wsclient import run, socket


def test_relay_is_not_mounted_by_default(make_tenant, ws_thread_connections, settings):
    assert settings.BENCH_RELAY_ENABLED is False
    host = host_of(make_tenant(slug="acme", company_name="Acme"))

    async def scenario():
        sock = socket(host, path="/ws/bench/relay/?role=visitor&group=acme")
        return await sock.connect(timeout=5)

    assert bench_relay_routes() == []
    # The application the server runs: the path falls through to the unknown-socket refusal.
    assert run(scenario()) == (False, 4404)


def _relay_socket(app, query: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(app, f"/ws/bench/relay/?{query}")


def test_relay_passes_visitor_frames_to_the_agents_of_its_group_only(settings):
    settings.BENCH_RELAY_ENABLED = True
    app = URLRouter(bench_relay_routes())
    # Unique names: the pub/sub layer is shared with any other run on the same Redis.
    group, other = f"g{uuid.uuid4().hex[:8]}", f"g{uuid.uuid4().hex[:8]}"

    async def scenario():
        agents = [_relay_socket(app, f"role=agent&group={group}") for _ in range(2)]
        stranger = _relay_socket(app, f"role=agent&group={other}")
        visitor = _relay_socket(app, f"role=visitor&group={group}")
        for sock in (*agents, stranger, visitor):
            assert (await sock.connect(timeout=5))[0]
        await visitor.send_to(text_data='{"n": 1}')
        received = [await agent.receive_from(timeout=5) for agent in agents]
        stranger_silent = await stranger.receive_nothing(timeout=0.5)
        # Agents only listen: a frame from an agent goes nowhere.
        await agents[0].send_to(text_data="from an agent")
        agent_silent = await agents[1].receive_nothing(timeout=0.5)
        for sock in (*agents, stranger, visitor):
            await sock.disconnect()
        return received, stranger_silent, agent_silent

    received, stranger_silent, agent_silent = run(scenario())

    assert received == ['{"n": 1}', '{"n": 1}']
    assert stranger_silent is True
    assert agent_silent is True


def test_relay_refuses_a_missing_role_or_bad_group(settings):
    settings.BENCH_RELAY_ENABLED = True
    app = URLRouter(bench_relay_routes())

    async def scenario():
        results = []
        for query in ("group=acme", "role=admin&group=acme", "role=agent&group=a.b", "role=agent"):
            results.append(await _relay_socket(app, query).connect(timeout=5))
        return results

    assert run(scenario()) == [(False, CLOSE_BAD_REQUEST)] * 4
