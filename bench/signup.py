#!/usr/bin/env python
"""Signup latency: our spare-pool way, template cloning, and "run every migration per signup".

This is a benchmark, not a test. It starts no server. It needs:

* a running web process and Celery worker on the database it is pointed at (the worker tops up
  the spare pool after each signup), started with the same settings as `python3 run.py`, e.g.

      export DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench
      export REDIS_URL=redis://127.0.0.1:6379/5 DJANGO_SETTINGS_MODULE=helpdesk.settings.dev
      .venv/bin/python manage.py bootstrap
      .venv/bin/daphne -b 127.0.0.1 -p 8124 --proxy-headers helpdesk.asgi:application &
      .venv/bin/celery -A helpdesk worker -l warning --concurrency 2 &

* the same DATABASE_URL (and settings) in this process, which reads the catalogue to tell
  which path each signup took, times the migrations mode in-process, and deletes what it made:

      .venv/bin/python bench/signup.py --url http://localhost:8124 -n 30

What is timed, per mode:

* spare   -- the POST of the real signup form over HTTP, from sending the request to receiving
             the 303 (CSRF token fetched before, untimed). Before each signup the bench waits until
             the worker has refilled the pool, so every signup finds a spare; it checks afterwards
             that the new schema *is* a former spare (same pg_namespace OID, i.e. renamed).
* clone   -- the same POST, while this process holds session advisory locks on every spare, which
             makes the signup's claim skip them (spare_schema_claim uses try-locks) and clone the
             template instead. Checked the same way: the new schema's OID is not a spare's.
* migrate -- in-process, against the same database: CREATE SCHEMA plus
             `migrate_schemas --tenant --schema <name>` (django-tenants' normal path for a new
             tenant schema). Only that is timed: no HTTP, no form, no password hashing, no rows.
             A full signup done this way would cost this *plus* roughly the spare-mode time, so
             the ratio printed is a lower bound on the real difference. One untimed warm-up run
             first, because the web process has its migration loader warm too.

Signups are sequential, one client. Each POST carries its own X-Forwarded-For address from
198.18.0.0/15 (RFC 2544, reserved for benchmarks) so the per-address signup rate limit does not
stop the run; the server must run daphne with --proxy-headers
(`TRUST_PROXY_HEADERS=true python3 run.py` does).

Everything the bench creates (workspaces named bench-<run>-..., schemas _bench_mig_<run>_...) is
deleted at the end through the operator service, also when the run fails; --keep keeps them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import secrets
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from tenants.models import Tenant  # noqa: E402
from tenants.services.operator import tenant_delete  # noqa: E402
from tenants.services.provisioning import (  # noqa: E402
    schema_drop,
    spare_schema_names,
    spare_schemas_replenish,
)

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class SignupClient:
    """The browser's two requests: GET the form (cookie + token), POST it. No redirect following."""

    def __init__(self, base_url: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.host_header = parts.netloc
        self.counter = 0

    def _connection(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=120)

    def form_token(self) -> tuple[str, str]:
        conn = self._connection()
        conn.request("GET", "/signup/", headers={"Host": self.host_header})
        response = conn.getresponse()
        body = response.read().decode()
        conn.close()
        if response.status != 200:
            raise SystemExit(f"GET /signup/ answered {response.status}; is the server up?")
        cookie = next(
            c.split(";", 1)[0]
            for c in response.headers.get_all("Set-Cookie") or []
            if c.startswith("csrftoken=")
        )
        return cookie, CSRF_INPUT.search(body).group(1)

    def signup(self, *, slug: str) -> tuple[float, http.client.HTTPResponse]:
        cookie, token = self.form_token()
        self.counter += 1
        address = f"198.18.{self.counter // 250}.{self.counter % 250 + 1}"
        body = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token,
                "company_name": f"Bench {slug}",
                "slug": slug,
                "owner_name": "Bench Owner",
                "email": f"owner@{slug}.example",
                "password": f"bench-Quokka-{secrets.token_hex(4)}",
                "timezone": "Europe/Berlin",
                "language": "en",
                "website": "",
            }
        )
        headers = {
            "Host": self.host_header,
            "Cookie": cookie,
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": address,
        }
        conn = self._connection()
        started = time.perf_counter()
        conn.request("POST", "/signup/", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        conn.close()
        if response.status == 429:
            raise SystemExit("Rate limited: start daphne with --proxy-headers (see the docstring).")
        if response.status != 303:
            raise SystemExit(f"Signup of {slug} answered {response.status}, expected 303.")
        return elapsed, response


def _oids(names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    with connection.cursor() as cur:
        cur.execute("SELECT nspname, oid FROM pg_namespace WHERE nspname = ANY(%s)", [names])
        return dict(cur.fetchall())


def _pool_wait(target: int, timeout: float = 120.0) -> list[str]:
    """Wait until the worker has topped the pool up (and so is idle again)."""
    deadline = time.monotonic() + timeout
    while True:
        spares = spare_schema_names()
        if len(spares) >= target:
            return spares
        if time.monotonic() > deadline:
            raise SystemExit(
                f"Only {len(spares)} of {target} spare schemas after {timeout:.0f} s: "
                "is the Celery worker running on this database and Redis?"
            )
        time.sleep(0.2)


def run_http_mode(
    client: SignupClient,
    *,
    mode: str,
    n: int,
    run_id: str,
    pool: int,
    created: list[str],
    tag: str = "",
) -> dict:
    """Signups through the form; `created` collects slugs as they are made, for the clean-up."""
    timings, paths = [], []
    locked: set[str] = set()
    try:
        for i in range(n):
            spares = _pool_wait(pool)
            if mode == "clone":
                # Session-level locks: the signup's pg_try_advisory_xact_lock fails on each one.
                for name in set(spares) - locked:
                    with connection.cursor() as cur:
                        cur.execute("SELECT pg_advisory_lock(hashtext(%s))", [name])
                    locked.add(name)
            spare_oids = set(_oids(spares).values())
            slug = f"bench-{run_id}-{tag or mode[0]}{i:03d}"
            created.append(slug)
            elapsed, _ = client.signup(slug=slug)
            schema = slug.replace("-", "_")
            paths.append("spare" if _oids([schema]).get(schema) in spare_oids else "clone")
            timings.append(elapsed)
    finally:
        for name in locked:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", [name])
    return {"timings": timings, "paths": paths}


def run_migrate_mode(*, n: int, run_id: str, created: list[str]) -> dict:
    timings = []

    def one(name: str) -> float:
        created.append(name)
        connection.set_schema_to_public()
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(f'CREATE SCHEMA "{name}"')
        call_command(
            "migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=0
        )
        elapsed = (time.perf_counter() - started) * 1000
        connection.set_schema_to_public()
        return elapsed

    one(f"_bench_mig_{run_id}_warmup")
    for i in range(n):
        timings.append(one(f"_bench_mig_{run_id}_{i:03d}"))
    return {"timings": timings, "paths": ["migrate"] * n}


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) == 1:
        return {"p50": values[0], "p95": values[0], "p99": values[0]}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98]}


def machine() -> dict[str, str]:
    cpu = "unknown"
    mem = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": pg,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # Anything else running on the box shows here; the figures are only as quiet as this.
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def cleanup(slugs: list[str], schemas: list[str]) -> None:
    connection.set_schema_to_public()
    for tenant in Tenant.objects.filter(slug__in=slugs):
        tenant_delete(tenant=tenant, confirm_slug=tenant.slug, actor_email="bench/signup.py")
    for name in schemas:
        schema_drop(schema_name=name)


def owner_hasher(slug: str) -> str:
    from tenants.agents.models import User

    tenant = Tenant.objects.get(slug=slug)
    with tenant_context(tenant):
        algorithm = User.objects.get().password.split("$", 1)[0]
    connection.set_schema_to_public()
    return algorithm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:8000", help="public site of the server")
    parser.add_argument("-n", type=int, default=30, help="signups per HTTP mode (default 30)")
    parser.add_argument("--n-migrate", type=int, help="runs of the migrations mode (default -n)")
    parser.add_argument(
        "--pool",
        type=int,
        default=max(1, settings.TENANT_SPARE_SCHEMAS),
        help="spares to wait for before each signup (the server's TENANT_SPARE_SCHEMAS)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw timings here")
    parser.add_argument("--keep", action="store_true", help="keep what the bench created")
    args = parser.parse_args()

    run_id = secrets.token_hex(2)
    client = SignupClient(args.url)
    results: dict[str, dict] = {}
    created: list[str] = []  # slugs and schema names, as they are made
    try:
        print(f"run {run_id}: {args.n} sequential signups per mode against {args.url}")
        if len(spare_schema_names()) < args.pool:
            # Untimed set-up: after that, only the worker refills the pool.
            spare_schemas_replenish(target=args.pool)
        # One untimed signup first: the server's first request pays for imports, its first
        # database and broker connections. The migrations mode gets the same warm-up.
        run_http_mode(client, mode="spare", n=1, run_id=run_id, pool=1, created=created, tag="w")
        for mode in ("spare", "clone"):
            results[mode] = run_http_mode(
                client, mode=mode, n=args.n, run_id=run_id, pool=args.pool, created=created
            )
            print(f"  {mode} done")
        results["migrate"] = run_migrate_mode(
            n=args.n_migrate or args.n, run_id=run_id, created=created
        )
        print("  migrate done")
        hasher = owner_hasher(created[0])
    finally:
        if not args.keep:
            cleanup(
                [s for s in created if not s.startswith("_")],
                [s for s in created if s.startswith("_")],
            )

    info = machine()
    summary = {mode: percentiles(r["timings"]) for mode, r in results.items()}
    mismatched = {
        mode: sum(1 for p in results[mode]["paths"] if p != mode) for mode in ("spare", "clone")
    }
    print()
    for key, value in info.items():
        print(f"{key:>10}: {value}")
    print(f"{'hasher':>10}: {hasher} (owner password on the server)")
    print()
    print("| mode | what is timed | n | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    what = {
        "spare": "HTTP POST /signup/ → 303, spare schema renamed",
        "clone": "HTTP POST /signup/ → 303, template cloned",
        "migrate": "in-process CREATE SCHEMA + migrate_schemas only",
    }
    for mode, p in summary.items():
        n = len(results[mode]["timings"])
        print(f"| {mode} | {what[mode]} | {n} | {p['p50']:.0f} | {p['p95']:.0f} | {p['p99']:.0f} |")
    print()
    print(f"p50 ratio migrate / spare: {summary['migrate']['p50'] / summary['spare']['p50']:.1f}x")
    print(f"p50 ratio clone / spare:   {summary['clone']['p50'] / summary['spare']['p50']:.1f}x")
    if any(mismatched.values()):
        print(f"WARNING: signups that took another path than their mode: {mismatched}")
    if args.json:
        args.json.write_text(
            json.dumps({"machine": info, "hasher": hasher, "results": results}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
