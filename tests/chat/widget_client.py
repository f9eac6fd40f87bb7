"""Widget and agent sockets against the real ASGI app, as the widget frame and inbox open them."""

from __future__ import annotations

import asyncio
import itertools
import json

from tests.helpdesk.realtime.wsclient import receive, socket

_ids = itertools.count(1)


def client_id() -> str:
    return f"c-{next(_ids)}"


def visitor_socket(host: str, *, origin: str | None = "same", ip: str | None = None):
    sock = socket(host, origin=origin, path="/ws/widget/")
    if ip is not None:
        # The application instance is created on connect, from this same scope dict.
        sock.scope["client"] = (ip, 50000)
    return sock


async def visitor_open(
    host: str,
    *,
    token=None,
    last_seq=0,
    identity=None,
    page_url="https://shop.example/p/1",
    ip: str | None = None,
):
    """A widget socket past `auth`: returns (socket, ready frame, messages frame or None)."""
    sock = visitor_socket(host, ip=ip)
    connected, _ = await sock.connect(timeout=5)
    assert connected
    await sock.send_json_to(
        {
            "type": "auth",
            "token": token,
            "identity": identity,
            "last_seq": last_seq,
            "page": {"url": page_url, "title": "Red shoes", "referrer": "https://google.com/"},
            "timezone": "Europe/Berlin",
            "language": "de-DE",
        }
    )
    ready = await receive(sock)
    assert ready["type"] == "ready", ready
    batch = None
    if ready["conversation"] is not None:
        batch = await receive(sock)
    return sock, ready, batch


async def frames_until(sock, kind: str, timeout: float = 5) -> list[dict]:
    """Every frame up to and including the first of type `kind`."""
    seen = []
    while True:
        frame = await receive(sock, timeout)
        seen.append(frame)
        if frame["type"] == kind:
            return seen


async def frame_where(sock, predicate, timeout: float = 5) -> dict:
    """The first frame for which predicate(frame) is true, skipping the others."""
    while True:
        frame = await receive(sock, timeout)
        if predicate(frame):
            return frame


async def nothing_more(sock, wait: float = 0.3) -> bool:
    return await sock.receive_nothing(timeout=wait)


async def send(sock, frame: dict) -> None:
    await sock.send_to(text_data=json.dumps(frame))


def of_type(frames: list[dict], kind: str) -> list[dict]:
    return [f for f in frames if f["type"] == kind]


async def settle() -> None:
    await asyncio.sleep(0.05)
