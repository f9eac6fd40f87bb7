#!/usr/bin/env python
"""Live chat under load: visitor → agent latency and throughput, against the bare relay's floor.

A benchmark, not a test. It starts no server and needs no Django: it speaks WebSocket to a
running server, as the widget and the agent inbox do (docs/chat-protocol.md). docs/benchmarks.md
has the full recipe; in short:

    # the server, with the relay mounted and the per-IP limits out of the way (one client IP)
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_chat
    export REDIS_URL=redis://127.0.0.1:6379/10 DJANGO_SETTINGS_MODULE=helpdesk.settings.dev
    export BENCH_RELAY_ENABLED=true WIDGET_RATE_CONNECTIONS_PER_IP=100000/60 \
           WIDGET_RATE_MESSAGES_PER_VISITOR=100000/10 WIDGET_RATE_MESSAGES_PER_IP=1000000/60
    .venv/bin/python manage.py bootstrap
    ulimit -n 4096  # daphne holds a file descriptor per socket
    .venv/bin/daphne -b 127.0.0.1 -p 8000 helpdesk.asgi:application &

    # workspaces, agents and their sessions (Django, the server's environment)
    .venv/bin/python bench/chat_setup.py setup --workspaces 10 --agents 20  # → /tmp/chat-bench.json

    # the load (DATABASE_URL only for the final row count, done by chat_setup.py count)
    .venv/bin/python bench/chat_load.py --base-url http://localhost:8000

Per target (`chat`: /ws/widget/ + /ws/agent/; `relay`: /ws/bench/relay/, the floor), in turn:

1. M agent sockets (session cookie, Origin = workspace host) and N visitor sockets (Origin =
   workspace host; `auth` with a null token, answered by `ready`) spread round-robin over the
   workspaces, at most --connect-concurrency handshakes at a time. All stay open to the end.
2. The load: `message.send` frames with a unique client_message_id whose body starts with the
   send time (`t=<unix ns> ...`), visitors taken round-robin, so each visitor's first message
   starts its conversation. Modes:
   * fixed    -- open loop at --rate msgs/s for --duration s: sends are scheduled at fixed
                 times and never wait for answers; a client that falls behind shows as "lag".
   * ramp     -- the same, once per rate in --rates, --step seconds each.
   * saturate -- closed loop: at most --window messages in flight (sent, not yet seen by an
                 agent); the rate the server sustains is what comes out.
   ramp and saturate first run a "starts" phase (closed loop, one message per visitor), so the
   measured phases see visitors that already have a conversation; its figures are reported
   too (conversation starts per second). --no-starts skips it.
3. Latency = first receipt of the message by any agent socket minus the time in its body (same
   machine, same clock). Acks (`ack` on the visitor socket) and the rows in the database
   (`chat_setup.py count`, if DATABASE_URL is set) confirm what was stored; the relay stores
   nothing and acks nothing.
4. After the load, up to --drain seconds for stragglers; then messages never seen by an agent
   are "missing". Sockets still open at the end are "held".

The client is one asyncio process; its own CPU use is reported, so a saturated client is visible
("late sends" counts open-loop sends more than 5 ms behind schedule). Machine CPU (/proc/stat)
and, with --server-pid / --cpu-match, the server's processes' CPU are reported too, in % of one
core. The client raises its own open-file limit (RLIMIT_NOFILE) to what the sockets need.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import secrets
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import State

ROOT = Path(__file__).resolve().parent.parent
FILLER = "Hi! Where is my order? It was due yesterday and the tracking page shows nothing."


# --- what happened to the messages of one load phase ----------------------------------------


@dataclass
class Tracker:
    prefix: str  # every client_message_id of the phase starts with it
    sent: dict[str, int] = field(default_factory=dict)  # cmid → send time (ns, in the body)
    first: dict[str, int] = field(default_factory=dict)  # cmid → first agent receipt (ns)
    latency_ms: dict[str, float] = field(default_factory=dict)
    acked: dict[str, int] = field(default_factory=dict)  # cmid → ack receipt (ns)
    ack_not_created: int = 0
    starts: set[str] = field(default_factory=set)  # cmids that started a conversation
    errors: Counter = field(default_factory=Counter)  # error frames by code
    error_cmids: set[str] = field(default_factory=set)
    send_failures: int = 0
    receipts: int = 0  # agent receipts, all agents
    duplicates: int = 0  # one agent socket receiving the same message twice
    late_sends: int = 0  # open loop: sends more than 5 ms behind schedule
    max_lag_ms: float = 0.0
    counter: int = 0
    window: asyncio.Semaphore | None = None
    started_ns: int = 0
    ended_ns: int = 0  # when the last send went out

    def settled(self) -> bool:
        return all(c in self.first or c in self.error_cmids for c in self.sent)


# --- sockets -----------------------------------------------------------------------------------


@dataclass
class Peer:
    role: str  # "visitor" or "agent"
    workspace: dict
    ws: ClientConnection | None = None
    reader: asyncio.Task | None = None
    started: bool = False  # visitor: has sent a first message
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    refused: str = ""
    seen: set[str] = field(default_factory=set)  # agent: cmids received this phase
    close_code: int | None = None


class Target:
    """One server path under load: the real chat consumers or the bare relay."""

    def __init__(self, name: str, args: argparse.Namespace, setup: dict) -> None:
        self.name, self.args, self.setup = name, args, setup
        parts = urllib.parse.urlsplit(args.base_url)
        self.address = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.scheme = "wss" if parts.scheme == "https" else "ws"
        self.http_scheme = parts.scheme
        self.visitors: list[Peer] = []
        self.agents: list[Peer] = []
        self.connect_errors: Counter = Counter()
        self.connect_ms: list[float] = []
        self.unexpected_closes: Counter = Counter()
        self.tracker = Tracker(prefix="-")
        self.next_visitor = 0
        self.closing = False

    # where each kind of socket goes
    def _path(self, peer: Peer) -> str:
        if self.name == "relay":
            group = peer.workspace["slug"]
            return f"/ws/bench/relay/?role={peer.role}&group={group}"
        return "/ws/widget/" if peer.role == "visitor" else "/ws/agent/"

    async def _open(self, peer: Peer, cookie: str | None) -> None:
        host = peer.workspace["host"]
        netloc = f"{host}:{self.port}"
        headers = {"Cookie": cookie} if cookie else None
        started = time.perf_counter()
        try:
            peer.ws = await connect(
                f"{self.scheme}://{netloc}{self._path(peer)}",
                # Every workspace host is served on this address; the Host header names it.
                host=self.address,
                port=self.port,
                origin=f"{self.http_scheme}://{netloc}",  # type: ignore[arg-type]
                additional_headers=headers,
                compression=None,
                proxy=None,
                open_timeout=self.args.connect_timeout,
                ping_interval=None,
                max_queue=None,
            )
        except InvalidStatus as exc:
            self.connect_errors[f"HTTP {exc.response.status_code}"] += 1
            return
        except (OSError, TimeoutError, ConnectionClosed) as exc:
            self.connect_errors[type(exc).__name__] += 1
            return
        peer.reader = asyncio.create_task(self._read(peer))
        if self.name == "chat":
            if peer.role == "visitor":
                auth = {
                    "type": "auth",
                    "token": None,
                    "identity": None,
                    "last_seq": 0,
                    "page": {
                        "url": f"http://{netloc}/bench-store",
                        "title": "Store",
                        "referrer": "",
                    },
                    "timezone": "UTC",
                    "language": "en",
                }
                await peer.ws.send(json.dumps(auth))
            try:
                await asyncio.wait_for(peer.ready.wait(), self.args.connect_timeout)
            except TimeoutError:
                peer.refused = peer.refused or "no ready/hello"
            if peer.refused:
                self.connect_errors[peer.refused] += 1
                await peer.ws.close()
                peer.ws = None
                return
        self.connect_ms.append((time.perf_counter() - started) * 1000)

    async def _read(self, peer: Peer) -> None:
        assert peer.ws is not None
        try:
            async for raw in peer.ws:
                if isinstance(raw, str):
                    self._frame(peer, raw)
        except ConnectionClosed:
            pass
        peer.close_code = peer.ws.close_code
        if not self.closing:
            self.unexpected_closes[f"{peer.role} {peer.ws.close_code}"] += 1
            peer.refused = peer.refused or f"closed {peer.ws.close_code}"
            peer.ready.set()

    def _frame(self, peer: Peer, raw: str) -> None:
        now = time.time_ns()
        t = self.tracker
        frame = json.loads(raw)
        if self.name == "relay":
            # Agents get exactly what the visitor sent.
            self._receipt(peer, frame.get("client_message_id"), frame.get("body", ""), now)
            return
        kind = frame.get("type")
        if peer.role == "agent":
            if kind == "message":
                message = frame.get("message") or {}
                self._receipt(peer, message.get("client_message_id"), message.get("body", ""), now)
            elif kind == "hello":
                peer.ready.set()
            elif kind == "error":
                t.errors[f"agent {frame.get('code')}"] += 1
            return
        if kind == "ack":
            cmid = frame.get("client_message_id") or ""
            if cmid.startswith(t.prefix) and cmid not in t.acked:
                t.acked[cmid] = now
                if frame.get("created") is False:
                    t.ack_not_created += 1
        elif kind == "ready":
            peer.ready.set()
        elif kind == "error":
            code = frame.get("code", "?")
            cmid = frame.get("client_message_id") or ""
            if not peer.ready.is_set():
                peer.refused = f"error {code}"
                peer.ready.set()
            elif cmid.startswith(t.prefix):
                t.errors[code] += 1
                if cmid not in t.error_cmids and cmid not in t.first:
                    t.error_cmids.add(cmid)
                    if t.window is not None:
                        t.window.release()
            else:
                self.connect_errors[f"error {code} outside a send"] += 1

    def _receipt(self, peer: Peer, cmid: Any, body: Any, now: int) -> None:
        t = self.tracker
        if not isinstance(cmid, str) or not cmid.startswith(t.prefix):
            return  # a straggler of an earlier phase
        if cmid in peer.seen:
            t.duplicates += 1
            return
        peer.seen.add(cmid)
        t.receipts += 1
        if cmid in t.first:
            return
        t.first[cmid] = now
        sent_ns = int(str(body).split(" ", 1)[0][2:])  # "t=<ns> ..."
        t.latency_ms[cmid] = (now - sent_ns) / 1e6
        if t.window is not None and cmid not in t.error_cmids:
            t.window.release()

    async def connect_all(self) -> float:
        args = self.args
        # Every workspace with visitors needs an agent listening, or its messages never arrive.
        workspaces = self.setup["workspaces"][
            : max(1, min(args.agents, len(self.setup["workspaces"])))
        ]
        cookie_name = self.setup["session_cookie_name"]
        gate = asyncio.Semaphore(args.connect_concurrency)

        async def one(peer: Peer, cookie: str | None) -> None:
            async with gate:
                await self._open(peer, cookie)

        started = time.perf_counter()
        jobs = []
        for i in range(args.agents):
            ws = workspaces[i % len(workspaces)]
            agent = ws["agents"][i // len(workspaces)]
            peer = Peer("agent", ws)
            self.agents.append(peer)
            cookie = f"{cookie_name}={agent['session']}" if self.name == "chat" else None
            jobs.append(one(peer, cookie))
        # Agents first, so no message goes out before they listen.
        await asyncio.gather(*jobs)
        jobs = []
        for i in range(args.visitors):
            peer = Peer("visitor", workspaces[i % len(workspaces)])
            self.visitors.append(peer)
            jobs.append(one(peer, None))
        await asyncio.gather(*jobs)
        return time.perf_counter() - started

    def open_count(self, peers: list[Peer]) -> int:
        return sum(1 for p in peers if p.ws is not None and p.ws.state is State.OPEN)

    async def close_all(self) -> None:
        self.closing = True
        peers = [p for p in self.visitors + self.agents if p.ws is not None]
        gate = asyncio.Semaphore(200)

        async def one(peer: Peer) -> None:
            async with gate:
                assert peer.ws is not None
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(peer.ws.close(), 10)

        await asyncio.gather(*(one(p) for p in peers))
        for p in peers:
            if p.reader is not None:
                p.reader.cancel()

    # --- load ----------------------------------------------------------------------------------

    def new_phase(self, prefix: str) -> Tracker:
        self.tracker = Tracker(prefix=prefix)
        for agent in self.agents:
            agent.seen = set()
        return self.tracker

    def _next_open_visitor(self) -> Peer | None:
        for _ in range(len(self.visitors)):
            peer = self.visitors[self.next_visitor % len(self.visitors)]
            self.next_visitor += 1
            if peer.ws is not None and peer.ws.state is State.OPEN:
                return peer
        return None

    async def _send(self, peer: Peer) -> None:
        t = self.tracker
        cmid = f"{t.prefix}{t.counter}"
        t.counter += 1
        if not peer.started:
            peer.started = True
            t.starts.add(cmid)
        now = time.time_ns()
        frame = json.dumps(
            {"type": "message.send", "client_message_id": cmid, "body": f"t={now} {FILLER}"}
        )
        t.sent[cmid] = now
        try:
            assert peer.ws is not None
            await peer.ws.send(frame)
        except ConnectionClosed:
            t.send_failures += 1
            del t.sent[cmid]
            t.starts.discard(cmid)

    async def open_loop(self, *, rate: float, duration: float) -> None:
        loop = asyncio.get_running_loop()
        t = self.tracker
        pending: set[asyncio.Task] = set()
        total = round(rate * duration)
        start = loop.time()
        t.started_ns = time.time_ns()
        for i in range(total):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.005:
                t.late_sends += 1
                t.max_lag_ms = max(t.max_lag_ms, -delay * 1000)
            peer = self._next_open_visitor()
            if peer is None:
                t.send_failures += total - i
                break
            # A task per send: a slow socket never holds up the schedule (open loop).
            task = asyncio.create_task(self._send(peer))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.gather(*pending)
        t.ended_ns = time.time_ns()

    async def closed_loop(self, *, window: int, duration: float, count: int | None = None) -> None:
        """Keep `window` messages in flight for `duration` s, or until `count` were sent."""
        loop = asyncio.get_running_loop()
        t = self.tracker
        t.window = asyncio.Semaphore(window)
        end = loop.time() + duration
        t.started_ns = time.time_ns()
        while loop.time() < end and (count is None or len(t.sent) < count):
            try:
                await asyncio.wait_for(t.window.acquire(), self.args.drain)
            except TimeoutError:
                t.errors[f"stalled: {window} messages unanswered for {self.args.drain} s"] += 1
                break
            peer = self._next_open_visitor()
            if peer is None:
                break
            await self._send(peer)
        t.ended_ns = time.time_ns()

    async def drain(self) -> None:
        deadline = time.monotonic() + self.args.drain
        t = self.tracker
        while time.monotonic() < deadline:
            acks_done = self.name == "relay" or all(
                c in t.acked or c in t.error_cmids for c in t.sent
            )
            if t.settled() and acks_done:
                return
            await asyncio.sleep(0.1)


# --- figures -------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    if len(values) == 1:
        return {"p50": values[0], "p95": values[0], "p99": values[0], "max": values[0]}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98], "max": max(values)}


def steady_rate(times_ns: list[int], start_ns: int, end_ns: int, skip: float = 0.2) -> float:
    """Events per second between start + skip·span and end: the warm-up is left out."""
    span = end_ns - start_ns
    lo = start_ns + int(span * skip)
    n = sum(1 for x in times_ns if lo <= x <= end_ns)
    seconds = (end_ns - lo) / 1e9
    return n / seconds if seconds > 0 else 0.0


class CpuMeter:
    """CPU use over a phase, in % of one core (this machine has os.cpu_count() of them): this
    process, each --server-pid, the processes whose command line contains a --cpu-match
    string (summed; PostgreSQL backends show their database's name there), and the machine."""

    def __init__(self, pids: list[int], matches: list[str]) -> None:
        self.pids, self.matches = pids, matches
        self.tick = os.sysconf("SC_CLK_TCK")

    def _ticks(self, pid: int | str) -> float:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(stat[11]) + int(stat[12])) / self.tick

    def _sample(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        out: dict[str, Any] = {"client": usage.ru_utime + usage.ru_stime, "wall": time.monotonic()}
        for pid in self.pids:
            with contextlib.suppress(OSError, IndexError):
                out[f"pid {pid}"] = self._ticks(pid)
        for match in self.matches:
            out[f"'{match}'"] = {}  # pid → CPU seconds, summed per pid in stop()
        if self.matches:
            me = str(os.getpid())  # whose command line holds the --cpu-match strings too
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit() or proc.name == me:
                    continue
                with contextlib.suppress(OSError, IndexError):
                    cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    for match in self.matches:
                        if match in cmdline:
                            out[f"'{match}'"][proc.name] = self._ticks(proc.name)
        cpu = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
        # user nice system idle iowait irq softirq: busy = all but idle and iowait (no steal).
        out["machine"] = (sum(cpu) - cpu[3] - cpu[4]) / self.tick
        return out

    def start(self) -> None:
        self.first = self._sample()

    def stop(self) -> dict[str, float]:
        last = self._sample()
        wall = last["wall"] - self.first["wall"]
        result = {}
        for key, value in last.items():
            if key == "wall" or key not in self.first:
                continue
            if isinstance(value, dict):
                # Processes that started during the phase count whole; ones that ended, not at all.
                used = sum(v - self.first[key].get(pid, 0.0) for pid, v in value.items())
            else:
                used = value - self.first[key]
            result[key] = round(100 * used / wall, 1)
        return result


def db_count(setup_path: Path, prefix: str) -> dict | None:
    if not os.environ.get("DATABASE_URL"):
        return None
    script = str(ROOT / "bench" / "chat_setup.py")
    done = subprocess.run(
        [sys.executable, script, "count", "--setup", str(setup_path), "--prefix", prefix],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    if done.returncode != 0:
        print(f"  (row count failed: {done.stderr.strip().splitlines()[-1:]})")
        return None
    per_ws = json.loads(done.stdout.strip().splitlines()[-1])
    rows = sum(w["rows"] for w in per_ws.values())
    firsts = [w["first"] for w in per_ws.values() if w["first"]]
    lasts = [w["last"] for w in per_ws.values() if w["last"]]
    span = (max(lasts) - min(firsts)) if firsts else 0.0
    return {
        "rows": rows,
        "distinct_client_ids": sum(w["distinct_client_ids"] for w in per_ws.values()),
        "rows_per_s": rows / span if span > 0 else None,
    }


def summarize(target: Target, t: Tracker, *, offered: float | None, cpu: dict) -> dict:
    starts = [t.latency_ms[c] for c in t.starts if c in t.latency_ms]
    later = [v for c, v in t.latency_ms.items() if c not in t.starts]
    ack_ms = [(t.acked[c] - t.sent[c]) / 1e6 for c in t.acked if c in t.sent]
    missing = [c for c in t.sent if c not in t.first and c not in t.error_cmids]
    end = max([t.ended_ns, *t.first.values()]) if t.first else t.ended_ns
    return {
        "target": target.name,
        "offered_per_s": offered,
        "sent": len(t.sent),
        "delivered": len(t.first),
        "delivered_per_s": steady_rate(list(t.first.values()), t.started_ns, t.ended_ns),
        "delivered_per_s_overall": len(t.first) / ((end - t.started_ns) / 1e9) if t.first else 0,
        "acked": len(t.acked) if target.name == "chat" else None,
        "acked_per_s": (
            steady_rate(list(t.acked.values()), t.started_ns, t.ended_ns)
            if target.name == "chat"
            else None
        ),
        "ack_not_created": t.ack_not_created,
        "latency_ms": percentiles(list(t.latency_ms.values())),
        "latency_first_message_ms": percentiles(starts),
        "latency_later_messages_ms": percentiles(later),
        "ack_ms": percentiles(ack_ms),
        "missing": len(missing),
        "error_frames": dict(t.errors),
        "send_failures": t.send_failures,
        "duplicates": t.duplicates,
        "agent_receipts": t.receipts,
        "late_sends": t.late_sends,
        "max_lag_ms": round(t.max_lag_ms, 1),
        "visitors_held": target.open_count(target.visitors),
        "agents_held": target.open_count(target.agents),
        "unexpected_closes": dict(target.unexpected_closes),
        "cpu_percent": cpu,
    }


# --- runs ----------------------------------------------------------------------------------------


async def run_target(name: str, args: argparse.Namespace, setup: dict, run_id: str) -> dict:
    target = Target(name, args, setup)
    meter = CpuMeter(args.server_pid, args.cpu_match)
    print(
        f"\n[{name}] connecting {args.agents} agents and {args.visitors} visitors ...", flush=True
    )
    seconds = await target.connect_all()
    connected = {
        "seconds": round(seconds, 1),
        "visitors": target.open_count(target.visitors),
        "agents": target.open_count(target.agents),
        "errors": dict(target.connect_errors),
        "handshake_ms": percentiles(target.connect_ms),
    }
    print(f"[{name}] connected: {connected}", flush=True)
    phases = []
    try:
        steps: list[tuple[str, float | None, float]] = []
        if args.mode != "fixed" and not args.no_starts:
            # Throughput of later messages is measured on visitors that already have a
            # conversation; starting them is a phase of its own (closed loop, one each).
            steps.append(("starts", None, 600.0))
        if args.mode == "fixed":
            steps.append(("fixed", args.rate, args.duration))
        elif args.mode == "ramp":
            steps += [("ramp", float(r), args.step) for r in args.rates.split(",")]
        else:
            steps.append(("saturate", None, args.duration))
        for i, (mode, rate, duration) in enumerate(steps):
            prefix = f"{run_id}-{name[0]}{i}-"
            t = target.new_phase(prefix)
            await asyncio.sleep(args.pause)
            meter.start()
            if mode == "starts":
                print(f"[{name}] starts: one message per visitor, window {args.window}", flush=True)
                target.next_visitor = 0
                await target.closed_loop(
                    window=args.window, duration=duration, count=target.open_count(target.visitors)
                )
            elif rate is None:
                print(f"[{name}] saturate: window {args.window}, {duration:.0f} s", flush=True)
                await target.closed_loop(window=args.window, duration=duration)
            else:
                print(f"[{name}] {mode}: {rate:g} msgs/s for {duration:.0f} s", flush=True)
                await target.open_loop(rate=rate, duration=duration)
            cpu = meter.stop()
            await target.drain()
            summary = summarize(target, t, offered=rate, cpu=cpu)
            summary["mode"] = mode
            if args.raw:
                # Per message, in send order: [send, ack, first agent receipt] (ns or None).
                summary["raw"] = [[v, t.acked.get(c), t.first.get(c)] for c, v in t.sent.items()]
            summary["window"] = args.window if rate is None else None
            if name == "chat" and not args.no_db_count:
                summary["db"] = db_count(args.setup, prefix)
            phases.append(summary)
            print(f"[{name}] {brief(summary)}", flush=True)
    finally:
        held = {
            "visitors": target.open_count(target.visitors),
            "agents": target.open_count(target.agents),
        }
        await target.close_all()
    return {"target": name, "connect": connected, "phases": phases, "held_at_end": held}


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def brief(s: dict) -> str:
    lat = s["latency_ms"]
    spread = " ".join(f"{k} {_num(lat[k], 1)}" for k in ("p50", "p95", "p99", "max"))
    return (
        f"sent {s['sent']}, delivered {s['delivered']} ({s['delivered_per_s']:.0f}/s steady), "
        f"{spread} ms, missing {s['missing']}, errors {s['error_frames'] or 0}, "
        f"late sends {s['late_sends']}, cpu {s['cpu_percent']}"
    )


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{kb / 1024 / 1024:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def report(results: list[dict], args: argparse.Namespace) -> None:
    print(
        "\n| target | mode | offered/s | sent | delivered/s during load | delivered/s overall "
        "| acks/s | rows/s (DB) | p50 ms | p95 ms | p99 ms | max ms | missing | errors "
        "| held V/A |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for s in r["phases"]:
            lat, db = s["latency_ms"], s.get("db") or {}
            errors = sum(s["error_frames"].values()) + s["send_failures"]
            mode = s["mode"] + ("" if s["window"] is None else f" (window {s['window']})")
            cells = [
                r["target"],
                mode,
                _num(s["offered_per_s"]),
                str(s["sent"]),
                _num(s["delivered_per_s"]),
                _num(s["delivered_per_s_overall"]),
                _num(s["acked_per_s"]),
                _num(db.get("rows_per_s")),
                *(_num(lat[k], 1) for k in ("p50", "p95", "p99", "max")),
                str(s["missing"]),
                str(errors),
                f"{s['visitors_held']}/{s['agents_held']}",
            ]
            print("| " + " | ".join(cells) + " |")
    by = {r["target"]: r for r in results}
    sustained = {
        name: max(
            (s["delivered_per_s"] for s in r["phases"] if s["mode"] != "starts" and keeps_up(s)),
            default=0.0,
        )
        for name, r in by.items()
    }
    if sustained.get("relay") and "chat" in sustained:
        ratio = sustained["chat"] / sustained["relay"]
        print(
            f"\nsustained delivered/s: chat {sustained['chat']:.0f}, relay "
            f"{sustained['relay']:.0f}, ratio {ratio:.2f} (target ≥ 0.60)"
        )
    if args.mode == "fixed" and "chat" in by and "relay" in by:
        p99 = {k: by[k]["phases"][0]["latency_ms"]["p99"] for k in ("chat", "relay")}
        print(
            f"p99 at {args.rate:g} msgs/s: chat {_num(p99['chat'], 1)} ms, "
            f"relay {_num(p99['relay'], 1)} ms (target < 100 ms)"
        )


def keeps_up(s: dict) -> bool:
    """A phase counts towards 'sustained' when nothing was lost and, open loop, the server kept
    pace with the offered rate (delivered ≥ 95 % of it) with p99 under a second."""
    if s["missing"] or s["send_failures"]:
        return False
    if s["offered_per_s"] is None:
        return True
    p99 = s["latency_ms"]["p99"]
    return s["delivered_per_s"] >= 0.95 * s["offered_per_s"] and p99 is not None and p99 < 1000


def raise_open_files(needed: int) -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, needed))
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return f"open-file limit {soft}" + (" (too low!)" if soft < needed else "")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://localhost:8000")
    parser.add_argument(
        "--setup",
        type=Path,
        default=Path("/tmp/chat-bench.json"),
        help="written by bench/chat_setup.py setup",
    )
    parser.add_argument("--targets", default="chat,relay", help="chat, relay or both, in order")
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--mode", choices=["fixed", "ramp", "saturate"], default="fixed")
    parser.add_argument("--rate", type=float, default=100, help="fixed: msgs/s")
    parser.add_argument("--duration", type=float, default=60, help="fixed, saturate: seconds")
    parser.add_argument("--rates", default="100,200,300,400,500", help="ramp: msgs/s steps")
    parser.add_argument("--step", type=float, default=20, help="ramp: seconds per step")
    parser.add_argument("--window", type=int, default=100, help="saturate: messages in flight")
    parser.add_argument(
        "--no-starts",
        action="store_true",
        help="ramp, saturate: skip the phase that starts every visitor's conversation first",
    )
    parser.add_argument("--drain", type=float, default=15, help="seconds to wait for stragglers")
    parser.add_argument("--pause", type=float, default=2, help="idle seconds before each phase")
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--connect-timeout", type=float, default=60)
    parser.add_argument(
        "--server-pid",
        type=int,
        action="append",
        default=[],
        help="also report this process's CPU (repeatable: daphne, postgres, ...)",
    )
    parser.add_argument(
        "--cpu-match",
        action="append",
        default=[],
        help="also report the summed CPU of processes whose command line "
        "contains this (repeatable), e.g. the database name for its backends",
    )
    parser.add_argument(
        "--no-db-count",
        action="store_true",
        help="skip counting stored rows (needs DATABASE_URL otherwise)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--raw", action="store_true", help="with --json: per-message times too")
    args = parser.parse_args()

    setup = json.loads(args.setup.read_text())
    per_ws = len(setup["workspaces"][0]["agents"])
    if args.agents > per_ws * len(setup["workspaces"]):
        raise SystemExit(
            f"The setup has {per_ws} agents per workspace; run chat_setup.py with more."
        )
    limit = raise_open_files(args.visitors + args.agents + 200)
    run_id = secrets.token_hex(3)
    info = machine()
    print(
        f"run {run_id}: {args.visitors} visitors, {args.agents} agents over "
        f"{min(len(setup['workspaces']), args.agents)} workspaces against {args.base_url}; {limit}"
    )
    results = []
    for name in args.targets.split(","):
        results.append(asyncio.run(run_target(name.strip(), args, setup, run_id)))
    print()
    for key, value in info.items():
        print(f"{key:>8}: {value}")
    report(results, args)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "args": vars(args) | {"setup": str(args.setup), "json": str(args.json)},
                    "results": results,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
