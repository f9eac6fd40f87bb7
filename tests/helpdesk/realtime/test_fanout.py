"""Fan-out of channel-layer sends: what many consumers send in one event-loop turn reaches every
subscriber (in another process too), intact and in order, as `group_send` would have."""

from __future__ import annotations

import asyncio

import redis.asyncio
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

from helpdesk.realtime.fanout import fanout_send, group_send_many
from tests.helpdesk.realtime.wsclient import run

EVENTS = [
    {"type": "chat.message", "frame": '{"body": "ünï 🎉 \'q\' \\\\ %s"}', "n": n} for n in range(5)
]


def _other_process_layer() -> RedisPubSubChannelLayer:
    """A layer of its own, as another daphne process has: its own Redis subscription."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    return RedisPubSubChannelLayer(**config)


async def _listen(layer, *groups: str) -> str:
    channel = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, channel)
    return channel


async def _received(layer, channel: str, count: int) -> list[dict]:
    return [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(count)]


def test_group_send_many_reaches_each_groups_subscribers_in_order():
    async def scenario():
        other = _other_process_layer()
        here = get_channel_layer()
        one = await _listen(other, "fanout_test.one")
        two = await _listen(here, "fanout_test.two")
        both = await _listen(other, "fanout_test.one", "fanout_test.two")
        await group_send_many(
            [
                ("fanout_test.one", EVENTS[0]),
                ("fanout_test.two", EVENTS[1]),
                ("fanout_test.one", EVENTS[2]),
            ]
        )
        got = (
            await _received(other, one, 2),
            await _received(here, two, 1),
            await _received(other, both, 3),
        )
        try:  # each event once: nothing more
            extra = await asyncio.wait_for(other.receive(both), 0.3)
        except TimeoutError:
            extra = None
        await other.flush()
        return got, extra

    (one, two, both), extra = run(scenario())

    assert one == [EVENTS[0], EVENTS[2]]
    assert two == [EVENTS[1]]
    assert both == [EVENTS[0], EVENTS[1], EVENTS[2]]
    assert extra is None


def test_fanout_send_returns_at_once_and_delivers_everything_queued_in_one_turn():
    async def scenario():
        other = _other_process_layer()
        channel = await _listen(other, "fanout_test.many")
        results = [fanout_send("fanout_test.many", event) for event in EVENTS]
        got = await _received(other, channel, len(EVENTS))
        try:
            late = await asyncio.wait_for(other.receive(channel), 0.3)
        except TimeoutError:
            late = None
        await other.flush()
        return results, got, late

    results, got, late = run(scenario())

    assert results == [None] * len(EVENTS)  # nothing to await: the consumer goes on
    assert got == EVENTS
    assert late is None


def test_group_send_many_of_nothing_sends_nothing():
    async def scenario():
        other = _other_process_layer()
        channel = await _listen(other, "fanout_test.none")
        await group_send_many([])
        try:
            got = await asyncio.wait_for(other.receive(channel), 0.3)
        except TimeoutError:
            got = None
        await other.flush()
        return got

    assert run(scenario()) is None


async def _maybe(layer, channel: str):
    """The next event on `channel`, or None if nothing comes within a moment."""
    try:
        return await asyncio.wait_for(layer.receive(channel), 0.3)
    except TimeoutError:
        return None


def test_a_send_for_the_others_is_not_published_when_its_sender_alone_listens():
    async def scenario():
        here = get_channel_layer()
        sender = await _listen(here, "fanout_test.alone")
        fanout_send("fanout_test.alone", EVENTS[0], unless_only=sender)
        # Published, it would have come back to the sender's own channel.
        return await _maybe(here, sender)

    assert run(scenario()) is None


def test_a_send_for_the_others_reaches_another_socket_of_this_process():
    async def scenario():
        here = get_channel_layer()
        sender = await _listen(here, "fanout_test.two_tabs")
        other_tab = await _listen(here, "fanout_test.two_tabs")
        fanout_send("fanout_test.two_tabs", EVENTS[1], unless_only=sender)
        return await _received(here, other_tab, 1), await _maybe(here, other_tab)

    got, extra = run(scenario())

    assert got == [EVENTS[1]]
    assert extra is None


def test_a_send_for_the_others_reaches_a_listener_in_another_process_once():
    async def scenario():
        here, other = get_channel_layer(), _other_process_layer()
        sender = await _listen(here, "fanout_test.other_device")
        device = await _listen(other, "fanout_test.other_device")
        fanout_send("fanout_test.other_device", EVENTS[2], unless_only=sender)
        got = await _received(other, device, 1), await _maybe(other, device)
        await other.flush()
        return got

    got, extra = run(scenario())

    assert got == [EVENTS[2]]
    assert extra is None


def test_a_send_for_the_others_from_a_socket_outside_the_group_reaches_its_members():
    async def scenario():
        here, other = get_channel_layer(), _other_process_layer()
        outsider = await here.new_channel()
        member = await _listen(other, "fanout_test.outside")
        fanout_send("fanout_test.outside", EVENTS[3], unless_only=outsider)
        got = await _received(other, member, 1)
        await other.flush()
        return got

    assert run(scenario()) == [EVENTS[3]]


def test_sends_still_go_out_after_redis_forgot_the_publishing_script():
    async def scenario():
        other = _other_process_layer()
        channel = await _listen(other, "fanout_test.flushed")
        await group_send_many([("fanout_test.flushed", EVENTS[0])])  # the script is loaded
        # As after a Redis restart: the script is gone from the server.
        flusher = redis.asyncio.Redis.from_url(settings.CACHES["default"]["LOCATION"])
        await flusher.script_flush()
        await flusher.aclose()
        await group_send_many([("fanout_test.flushed", EVENTS[1])])
        got = await _received(other, channel, 2)
        await other.flush()
        return got

    assert run(scenario()) == [EVENTS[0], EVENTS[1]]
