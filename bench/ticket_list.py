#!/usr/bin/env python
"""The ticket list API with 100,000 tickets: latency per filter combination, and its query count.

A benchmark, not a test. It starts no server and needs no Django for the timing: it sends
`GET /api/v1/tickets/` to a running server with an API token, as an integration would.
docs/benchmarks.md has the full recipe; in short:

    # the product, with its own database (the run command migrates and makes workspace `demo`)
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_tickets
    export REDIS_URL=redis://127.0.0.1:6379/7 DEBUG=false
    PORT=8124 python3 run.py

    # 100,000 tickets in demo, 10 in a small workspace, tokens (Django, the server's environment)
    .venv/bin/python bench/ticket_seed.py seed --slug demo  # → /tmp/ticket-bench.json

    # the load; then, in-process, the SQL statements per request (the server's environment)
    .venv/bin/python bench/ticket_list.py --base-url http://localhost:8124

Per combination (default list, status=open, channel=email, a common and a rare tag, an
assignee, priority=urgent, q=#<number>, q=<a word of subjects>, sort=created_at, status=any,
and page 3 of the default list reached through `next`): a few untimed warm-up requests, then
-r requests one after the other on one keep-alive connection, then -r requests over
--concurrency connections at once. Timed: from sending the request to having read the whole
response body. Every response must be a 200 with a JSON page; anything else counts as an
error. The workspace is addressed by its host in the Host header (`demo.localhost:<port>`),
every request going to --base-url's address. The requests are spread over the tokens of the
owner and the agents the seed made (the API's throttle allows each agent 1,200 a minute; a 429
would show as an error).

Then, unless --no-queries, `bench/ticket_seed.py queries` (in-process, Django's test client on
the same database) counts the SQL statements of each combination at pages 1 to 3 in the large
and the small workspace; with --explain it adds EXPLAIN ANALYZE of each ticket query.

Prints a table (p50/p95/p99/max per combination and mode, against the p95 < 100 ms target),
the query counts, and a JSON line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chat_load import CpuMeter, machine, percentiles

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 100.0
SEED = ROOT / "bench" / "ticket_seed.py"


@dataclass
class Timings:
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


class Client:
    """One keep-alive HTTP/1.1 connection to the server, for one workspace host."""

    def __init__(self, *, address: str, port: int, host: str, tokens: list[str]) -> None:
        self.address, self.port, self.host, self.tokens = address, port, host, tokens
        self.conn = http.client.HTTPConnection(address, port, timeout=30)
        self.turn = 0

    def get(self, path: str) -> tuple[int, bytes]:
        token = self.tokens[self.turn % len(self.tokens)]
        self.turn += 1
        headers = {
            "Host": f"{self.host}:{self.port}",
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
        }
        try:
            self.conn.request("GET", path, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            # A dropped keep-alive connection: a new one, the request once more.
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.address, self.port, timeout=30)
            self.conn.request("GET", path, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def _path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def filter_combinations(ws: dict) -> list[tuple[str, dict[str, str]]]:
    """The filter combinations timed here and counted by ticket_seed.py, by name (page 3 is
    followed, not named)."""
    s = ws["samples"]
    return [
        ("default", {}),
        ("status=open", {"status": "open"}),
        ("channel=email", {"channel": "email"}),
        (f"tag={s['tag_common']}", {"tag": s["tag_common"]}),
        (f"tag={s['tag_rare']} (rare)", {"tag": s["tag_rare"]}),
        ("assignee=<id>", {"assignee": str(s["assignee"])}),
        ("priority=urgent", {"priority": "urgent"}),
        ("q=#number", {"q": f"#{s['number']}"}),
        ("q=word (subject)", {"q": "canada"}),
        ("sort=created_at", {"sort": "created_at"}),
        ("status=any", {"status": "any"}),
    ]


def combos(ws: dict, list_url: str, client: Client) -> list[tuple[str, str]]:
    """(name, path) per combination; page 3 is found by following `next` twice."""
    named = filter_combinations(ws)
    out = [
        (name, list_url + ("?" + urllib.parse.urlencode(params) if params else ""))
        for name, params in named
    ]
    path = list_url
    for _ in range(2):
        status, body = client.get(path)
        following = json.loads(body).get("next") if status == 200 else None
        if not following:
            print("  (the default list has fewer than 3 pages: no page-3 combination)")
            return out
        path = _path(following)
    out.append(("default, page 3 (via next)", path))
    return out


def run_combo(
    *, args: argparse.Namespace, ws: dict, path: str, concurrency: int
) -> tuple[Timings, dict]:
    """args.requests requests to `path`, over `concurrency` connections."""
    timings = Timings()
    tokens = ws["tokens"]
    clients = [
        Client(address=args.address, port=args.port, host=ws["host"], tokens=tokens)
        for _ in range(concurrency)
    ]
    for i, client in enumerate(clients):
        client.turn = i  # each connection starts on another token
    first: dict[str, Any] = {}
    for client in clients:  # warm-up (untimed): connections open, server code paths hot
        for _ in range(args.warmup):
            status, body = client.get(path)
        if status == 200 and not first:
            page = json.loads(body)
            first = {"results": len(page["results"]), "has_next": bool(page["next"])}
    per_client = [args.requests // concurrency] * concurrency
    for i in range(args.requests % concurrency):
        per_client[i] += 1

    def work(client: Client, count: int) -> None:
        local = []
        for _ in range(count):
            started = time.perf_counter()
            status, body = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            if status != 200:
                timings.error(f"HTTP {status}")
                continue
            if not body.startswith(b'{"results":'):
                timings.error("not a page")
                continue
            local.append(elapsed)
        with timings.lock:
            timings.latencies_ms.extend(local)

    threads = [
        threading.Thread(target=work, args=(c, n), daemon=True)
        for c, n in zip(clients, per_client, strict=True)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    timings.seconds = time.perf_counter() - started
    for client in clients:
        client.close()
    return timings, first


def query_counts(args: argparse.Namespace) -> dict | None:
    if not os.environ.get("DATABASE_URL"):
        print("  (DATABASE_URL not set: no query counts)")
        return None
    command = [sys.executable, str(SEED), "queries", "--setup", str(args.setup)]
    if args.explain:
        command.append("--explain")
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    if done.returncode != 0:
        print(f"  (query count failed: {done.stderr.strip().splitlines()[-3:]})")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://localhost:8000")
    parser.add_argument(
        "--setup",
        type=Path,
        default=Path("/tmp/ticket-bench.json"),
        help="written by bench/ticket_seed.py seed",
    )
    parser.add_argument(
        "--workspace", choices=["large", "small"], default="large", help="of the setup file"
    )
    parser.add_argument("-r", "--requests", type=int, default=200, help="per combo and mode")
    parser.add_argument("-c", "--concurrency", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per connection")
    parser.add_argument("--only", help="run only combinations whose name contains this")
    parser.add_argument("--no-queries", action="store_true", help="skip the query count")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each combo too")
    parser.add_argument("--server-pid", type=int, action="append", default=[])
    parser.add_argument("--cpu-match", action="append", default=[])
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    parts = urllib.parse.urlsplit(args.base_url)
    args.address = parts.hostname or "127.0.0.1"
    if args.address == "localhost":
        args.address = "127.0.0.1"
    args.port = parts.port or 80

    setup = json.loads(args.setup.read_text())
    ws = setup["workspaces"][args.workspace]
    info = machine()
    probe = Client(address=args.address, port=args.port, host=ws["host"], tokens=ws["tokens"])
    todo = combos(ws, setup["list_url"], probe)
    probe.close()
    if args.only:
        todo = [(n, p) for n, p in todo if args.only in n]
    print(
        f"{ws['slug']} ({ws['host']}): {ws['tickets']} tickets; {len(todo)} combinations, "
        f"{args.requests} requests each sequentially and over {args.concurrency} connections, "
        f"against {args.base_url}",
        flush=True,
    )
    results = []
    for name, path in todo:
        row: dict[str, Any] = {"combo": name, "path": path}
        for mode, concurrency in (("sequential", 1), ("concurrent", args.concurrency)):
            meter = CpuMeter(args.server_pid, args.cpu_match)
            meter.start()
            timings, first = run_combo(args=args, ws=ws, path=path, concurrency=concurrency)
            cpu = meter.stop()
            lat = percentiles(timings.latencies_ms)
            row[mode] = {
                "concurrency": concurrency,
                "ok": len(timings.latencies_ms),
                "errors": timings.errors,
                "req_per_s": round(len(timings.latencies_ms) / timings.seconds, 1),
                "latency_ms": {k: (round(v, 1) if v is not None else None) for k, v in lat.items()},
                "cpu_percent": cpu,
            }
            row.setdefault("page", first)
            print(
                f"  {name:<28} {mode:<10} p50 {_num(lat['p50'])} p95 {_num(lat['p95'])} "
                f"p99 {_num(lat['p99'])} max {_num(lat['max'])} ms, "
                f"{row[mode]['req_per_s']}/s, errors {timings.errors or 0}, cpu {cpu}",
                flush=True,
            )
        results.append(row)

    queries = None if args.no_queries else query_counts(args)

    print()
    for key, value in info.items():
        print(f"{key:>8}: {value}")
    print(
        f"\n| combination | rows | sequential p50 / p95 / p99 ms | {args.concurrency} connections "
        "p50 / p95 / p99 ms | req/s at " + str(args.concurrency) + " | p95 / target | errors |"
    )
    print("|---|---|---|---|---|---|---|")
    worst = 0.0
    for row in results:
        seq, conc = row["sequential"], row["concurrent"]
        p95 = max(seq["latency_ms"]["p95"] or 0, conc["latency_ms"]["p95"] or 0)
        worst = max(worst, p95)
        errors = sum(seq["errors"].values()) + sum(conc["errors"].values())
        spread = [
            " / ".join(_num(m["latency_ms"][k]) for k in ("p50", "p95", "p99")) for m in (seq, conc)
        ]
        print(
            f"| {row['combo']} | {row['page'].get('results', '-')} | {spread[0]} | {spread[1]} "
            f"| {conc['req_per_s']:.0f} | {p95 / TARGET_P95_MS:.2f} | {errors} |"
        )
    print(
        f"\nworst p95 {worst:.1f} ms (target < {TARGET_P95_MS:.0f} ms: "
        f"{'met' if worst < TARGET_P95_MS else 'NOT met'})"
    )
    if queries:
        print("\nSQL statements per request (page 1 / 2 / 3), in-process:")
        for role in ("large", "small"):
            counts = queries[role]["queries"]
            cells = ", ".join(
                f"{n}: {'/'.join(str(v) for v in c.values())}" for n, c in counts.items()
            )
            print(f"  {role} ({queries[role]['tickets']} tickets at seed time): {cells}")
        print(
            "  statements: " + " | ".join(s[:60] for s in queries["statements_of_default_request"])
        )
        if args.explain:
            print("\nEXPLAIN ANALYZE of the ticket query (large workspace):")
            for name, plan in queries["explain"].items():
                print(f"  {name}: {plan.get('execution') or plan.get('error')}")
    summary = {
        "bench": "ticket_list",
        "workspace": {k: ws[k] for k in ("slug", "host", "tickets")},
        "requests": args.requests,
        "concurrency": args.concurrency,
        "results": results,
        "worst_p95_ms": worst,
        "queries": queries,
        "machine": info,
    }
    line = dict(summary)
    if queries and "explain" in queries:
        # The plans go to --json only; the line keeps their execution times.
        short = {n: p.get("execution") for n, p in queries["explain"].items()}
        line["queries"] = {**queries, "explain": short}
    print(json.dumps(line))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
