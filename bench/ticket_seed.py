#!/usr/bin/env python
"""Tickets for bench/ticket_list.py: a workspace with 100,000 of them, a small one with 10, API
tokens; afterwards, the query count of a list request and the plans of its queries.

The Django side of the ticket list benchmark, kept apart from the load client (which speaks only
HTTP). Run it with the *server's* environment (same DATABASE_URL, REDIS_URL, settings):

    .venv/bin/python bench/ticket_seed.py seed --slug demo  # 100,000 → /tmp/ticket-bench.json
    .venv/bin/python bench/ticket_seed.py queries           # SQL statements per list request (JSON)
    .venv/bin/python bench/ticket_seed.py queries --explain # and EXPLAIN ANALYZE of the list query
    .venv/bin/python bench/ticket_seed.py cleanup           # seeded rows, the small workspace

seed    -- in workspace --slug (made by tenant_signup if missing) and in a small one
           (--small-slug, --small-tickets, --small-days; --only seeds one of them): --agents
           agents (reused when present; made like an accepted invitation makes them), contacts
           (one per ~3 tickets), tickets and their conversations (one per channel; no messages:
           the list reads none), written with COPY in the workspace's schema, ids and ticket
           numbers taken from their sequences (so `ticket_number_seq` ends past every number
           used and the product carries on after them). Spread, from a fixed --seed: created
           over --days, older ones mostly solved or closed; channels email / web / both;
           priorities; 0 to 3 tags of a Zipf-like vocabulary; assignees skewed over the agents,
           new tickets unassigned; a few merged ones. Then VACUUM ANALYZE (the planner's
           statistics, as autovacuum would leave them), an API token for the owner and for
           every agent (the API's throttle counts per agent: 1,200/minute; the load client
           spreads its requests over them), and writes hosts, tokens and sample filter values
           to --out (a secret-bearing file, mode 600).
queries -- in-process, Django's test client against the same database: every combo of the
           load client at page 1 and page 3 in both workspaces, counting SQL statements with
           CaptureQueriesContext (after a warm-up request; the token's once-a-minute
           `last_used_at` UPDATE is reported apart). --explain adds EXPLAIN (ANALYZE, BUFFERS)
           of each combo's ticket query in the large workspace.
cleanup -- deletes what seed wrote (contacts of the seed's address domain and their tickets and
           conversations, the bench tokens) and the small workspace.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.dev")

import django  # noqa: E402

django.setup()

from django.db import models, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402
from ticket_list import filter_combinations  # noqa: E402  (bench/ is the script's directory)

from chat.models import Conversation  # noqa: E402
from helpdesk.contacts.models import Contact  # noqa: E402
from helpdesk.tickets.models import TICKET_NUMBER_OFFSET, TICKET_NUMBER_SEQUENCE, Ticket  # noqa: E402
from helpdesk.tickets.services.status import conversation_status_for  # noqa: E402
from tenants.agents.models import ApiToken, User  # noqa: E402
from tenants.agents.tokens import api_token_create  # noqa: E402
from tenants.connection import connection  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services.operator import tenant_delete  # noqa: E402
from tenants.services.signup import tenant_signup  # noqa: E402

PASSWORD = "bench-Ticket-Quokka-42"
TOKEN_NAME = "bench/ticket_list"
SEED_DOMAIN = "seed.bench.example"  # contacts of the seed write from here; cleanup finds them
LIST_URL = "/api/v1/tickets/"

TAGS = [
    "shipping", "refund", "returns", "vip", "damaged", "billing", "order-status", "exchange",
    "discount", "wholesale", "warranty", "address-change", "cancel", "feedback", "size",
    "invoice", "missing-item", "subscription", "gift-card", "bug", "marketplace", "fraud-check",
    "b2b", "press", "legal",
]  # fmt: skip
SUBJECTS = [
    "Where is my order #{n}?",
    "Refund for order {n}",
    "Wrong size delivered",
    "Item arrived damaged (order {n})",
    "Can I change my shipping address?",
    "Discount code not working",
    "Question about the warranty",
    "Invoice for order #{n}",
    "Cancel my subscription",
    "Package marked delivered but not here",
    "Do you ship to Canada?",
    "Exchange for a bigger size",
]
PREVIEWS = {
    "customer": [
        "Any news on this? I still have not heard back.",
        "Thanks, that worked!",
        "I attached a photo of the box.",
        "Could you send the invoice with my company name?",
    ],
    "agent": [
        "I have sent you a prepaid return label.",
        "Your refund is on its way; it takes 3-5 business days.",
        "Could you tell me your order number?",
        "The parcel left our warehouse this morning.",
    ],
}
FIRST_NAMES = ["Ana", "Li", "Sam", "Noah", "Mia", "Omar", "Yuki", "Lena", "Raj", "Zoe", "Ivan"]
LAST_NAMES = ["Silva", "Wang", "Smith", "Müller", "García", "Kim", "Rossi", "Haddad", "Novak"]

S = Ticket.Status
# Status shares by age: recent tickets are being worked on, old ones are solved or closed.
STATUS_BY_AGE: list[tuple[float, dict[str, float]]] = [
    (2, {S.NEW: 0.15, S.OPEN: 0.35, S.PENDING: 0.2, S.ON_HOLD: 0.05, S.SOLVED: 0.25}),
    (
        14,
        {S.NEW: 0.02, S.OPEN: 0.1, S.PENDING: 0.1, S.ON_HOLD: 0.06, S.SOLVED: 0.42, S.CLOSED: 0.3},
    ),
    (1e9, {S.OPEN: 0.02, S.PENDING: 0.02, S.ON_HOLD: 0.02, S.SOLVED: 0.1, S.CLOSED: 0.84}),
]
PRIORITIES = {"low": 0.15, "normal": 0.65, "high": 0.15, "urgent": 0.05}
CHANNELS = {("email",): 0.55, ("web",): 0.4, ("email", "web"): 0.05}
TAG_COUNTS = {0: 0.35, 1: 0.4, 2: 0.18, 3: 0.07}
MERGED_SHARE = 0.005

Row = dict[str, Any]


def _pick(rng: random.Random, weights: dict) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# --- writing rows -------------------------------------------------------------------------------


def _ids(table: str, count: int) -> list[int]:
    """`count` fresh ids from the table's identity sequence (the rows are written with them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [f'"{connection.schema_name}"."{table}"', count],
        )
        return [row[0] for row in cursor.fetchall()]


def _numbers(count: int) -> list[int]:
    """Ticket numbers as ticket_number_next hands them out; the sequence ends past them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(%s) FROM generate_series(1, %s)", [TICKET_NUMBER_SEQUENCE, count]
        )
        return [TICKET_NUMBER_OFFSET + row[0] for row in cursor.fetchall()]


def _copy(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """COPY rows (attribute name → value) into the current schema. Every concrete column is
    written: the ones a row leaves out get the model field's default, as a save would (so
    columns added later are filled in too)."""
    from psycopg.types.json import Jsonb

    fields = model._meta.concrete_fields
    table = f'"{connection.schema_name}"."{model._meta.db_table}"'
    columns = ", ".join(f'"{f.column}"' for f in fields)
    plan = [(f.attname, f, isinstance(f, models.JSONField)) for f in fields]
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no COPY
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = []
                for name, f, is_json in plan:
                    value = row[name] if name in row else f.get_default()
                    values.append(Jsonb(value) if is_json else value)
                copy.write_row(values)


# --- seed -----------------------------------------------------------------------------------------


def _workspace(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        tenant = tenant_signup(
            company_name=f"Bench tickets {slug}",
            slug=slug,
            owner_name="Bench Owner",
            owner_email=f"owner@{slug}.example",
            owner_password=PASSWORD,
        ).tenant
    connection.set_schema_to_public()
    return tenant


def _agents(tenant: Tenant, count: int) -> list[User]:
    """The workspace's agents, topped up to `count` the way an accepted invitation makes them."""
    from allauth.account.models import EmailAddress

    agents = list(User.objects.filter(is_active=True, role=User.Role.AGENT).order_by("pk"))
    for i in range(len(agents), count):
        email = f"agent{i:02d}@{tenant.slug}.example"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=PASSWORD, name=f"Bench Agent {i:02d}", role="agent"
            )
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        agents.append(user)
    return agents[:count]


def _tokens(users: list[User]) -> list[str]:
    secrets_ = []
    for user in users:
        # The product allows 25 active tokens per agent: old bench tokens make room.
        ApiToken.objects.filter(user=user, name=TOKEN_NAME, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        secrets_.append(api_token_create(user=user, name=TOKEN_NAME).secret)
    return secrets_


def _tickets(
    *, rng: random.Random, count: int, days: float, agents: list[User], label: str
) -> tuple[list[Row], list[Row], list[Row]]:
    """Rows (attribute name → value) of contacts, tickets and conversations."""
    now = timezone.now()
    agent_weights = [1 / (k + 1) ** 0.6 for k in range(len(agents))]  # a few agents do more
    tag_weights = [1 / (k + 1) for k in range(len(TAGS))]
    contact_ids = _ids(Contact._meta.db_table, max(1, count // 3))
    ticket_ids = _ids(Ticket._meta.db_table, count)
    numbers = _numbers(count)
    contacts: dict[int, Row] = {}
    tickets: list[Row] = []
    conversations: list[Row] = []
    spans = [(now - timedelta(days=rng.random() * days)) for _ in range(count)]
    spans.sort()  # numbers grow with creation time, as in the product
    for i, (pk, number, created) in enumerate(zip(ticket_ids, numbers, spans, strict=True)):
        age_days = (now - created).total_seconds() / 86400
        status = _pick(rng, next(w for limit, w in STATUS_BY_AGE if age_days < limit))
        worked = min(age_days, rng.expovariate(1 / 1.5))  # days between creation and last act
        last = created + timedelta(days=rng.random() * worked)
        channels = _pick(rng, CHANNELS)
        tags = sorted(set(rng.choices(TAGS, weights=tag_weights, k=_pick(rng, TAG_COUNTS))))
        assignee = (
            None
            if status == S.NEW or rng.random() < 0.1
            else rng.choices(agents, weights=agent_weights)[0].pk
        )
        contact_pk = rng.choice(contact_ids)
        contact = contacts.get(contact_pk)
        if contact is None:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            contact = contacts[contact_pk] = {
                "id": contact_pk,
                "name": name,
                "email": f"customer{contact_pk}.{label}@{SEED_DOMAIN}",
                "email_verified": "email" in channels,
                "created_at": created,
            }
        sender = "customer" if status in (S.NEW, S.OPEN) else rng.choice(["customer", "agent"])
        merged = None
        if status == S.CLOSED and tickets and rng.random() < MERGED_SHARE:
            merged = rng.choice(tickets[-500:])["id"]
        ticket = {
            "id": pk,
            "number": number,
            "subject": rng.choice(SUBJECTS).format(n=rng.randint(10_000, 99_999)),
            "status": status,
            "priority": _pick(rng, PRIORITIES),
            "assignee_id": assignee,
            "tags": tags,
            "requester_id": contact_pk,
            "channels": list(channels),
            "merged_into_id": merged,
            "follow_up_of_id": None,
            "last_message_preview": rng.choice(PREVIEWS[sender]),
            "last_message_sender_kind": sender,
            "unread_count": rng.randint(1, 3) if sender == "customer" and status == S.NEW else 0,
            "created_at": created,
            "last_activity_at": last,
            "solved_at": last if status in (S.SOLVED, S.CLOSED) else None,
            "closed_at": last if status == S.CLOSED else None,
        }
        tickets.append(ticket)
        if merged is not None:
            continue  # a merged ticket's conversations moved to the other one
        for channel in channels:
            conversations.append(
                {
                    "contact_id": contact_pk,
                    "ticket_id": pk,
                    "channel": channel,
                    "status": conversation_status_for(status, snoozed=False),
                    "snoozed_until": None,
                    "assignee_id": assignee,
                    "agent_unread_count": ticket["unread_count"],
                    "last_message_preview": ticket["last_message_preview"],
                    "last_message_sender_kind": sender,
                    "created_at": created,
                    "last_activity_at": last,
                }
            )
        if i and i % 20_000 == 0:
            print(f"    {i} tickets built", flush=True)
    for conversation, pk in zip(
        conversations, _ids(Conversation._meta.db_table, len(conversations)), strict=True
    ):
        conversation["id"] = pk
    return list(contacts.values()), tickets, conversations


def _seed_one(
    tenant: Tenant, *, tickets: int, agents: int, days: float, args: argparse.Namespace
) -> dict:
    rng = random.Random(f"{args.seed}-{tenant.slug}")
    label = f"{tenant.slug}{int(time.time())}"
    started = time.perf_counter()
    with tenant_context(tenant):
        staff = _agents(tenant, agents)
        owner = User.objects.get(role=User.Role.OWNER)
        started = time.perf_counter()
        with transaction.atomic():
            contacts, rows, conversations = _tickets(
                rng=rng, count=tickets, days=days, agents=staff, label=label
            )
            built = time.perf_counter()
            _copy(Contact, contacts)
            _copy(Ticket, rows)
            _copy(Conversation, conversations)
        copied = time.perf_counter()
        with connection.cursor() as cursor:
            for model in (Contact, Ticket, Conversation):
                cursor.execute(f'VACUUM ANALYZE "{tenant.schema_name}"."{model._meta.db_table}"')
        tokens = _tokens([owner, *staff])
        total = Ticket.objects.count()
        # Sample filter values for the load client, from what was written.
        active = [t for t in rows if t["status"] in (S.NEW, S.OPEN, S.PENDING, S.ON_HOLD)]
        tag_counts = Counter(tag for t in rows for tag in t["tags"])
        assignee_counts = Counter(t["assignee_id"] for t in active if t["assignee_id"])
        by_status = Counter(t["status"] for t in rows)
    connection.set_schema_to_public()
    print(
        f"  {tenant.slug}: {tickets} tickets, {len(conversations)} conversations, "
        f"{len(contacts)} contacts; built in {built - started:.1f} s, copied in "
        f"{copied - built:.1f} s; {total} tickets in the workspace now",
        flush=True,
    )
    common = tag_counts.most_common()
    return {
        "slug": tenant.slug,
        "schema": tenant.schema_name,
        "host": tenant.get_primary_domain().domain,
        "tickets": total,
        "seeded": tickets,
        "by_status": dict(by_status),
        "tokens": tokens,
        "owner_id": owner.pk,
        "agent_ids": [a.pk for a in staff],
        "samples": {
            "tag_common": common[0][0] if common else "shipping",
            "tag_rare": common[-1][0] if common else "legal",
            "tag_counts": dict(common),
            "assignee": assignee_counts.most_common(1)[0][0] if assignee_counts else owner.pk,
            "number": (rng.choice(active) if active else rows[0])["number"] if rows else 1001,
        },
    }


def seed(args: argparse.Namespace) -> int:
    data: dict[str, Any] = {"list_url": LIST_URL, "workspaces": {}}
    if args.only and args.out.exists():
        data = json.loads(args.out.read_text())  # the other workspace's entry stays
    for role, slug, count, agents, days in (
        ("large", args.slug, args.tickets, args.agents, args.days),
        # Agents only matter for the spread of assignees, and each costs a password hash. The
        # small workspace's tickets are recent, so its default (active) list is not empty.
        ("small", args.small_slug, args.small_tickets, min(args.agents, 2), args.small_days),
    ):
        if args.only and args.only != role:
            continue
        tenant = _workspace(slug)
        data["workspaces"][role] = _seed_one(
            tenant, tickets=count, agents=agents, days=days, args=args
        )
    args.out.write_text(json.dumps(data, indent=2))
    args.out.chmod(0o600)
    print(f"wrote {args.out}")
    return 0


# --- queries --------------------------------------------------------------------------------------


def _pages(client, ws: dict, params: dict[str, str], headers: dict) -> list[tuple[dict, Any]]:
    """Pages 1 to 3 of a combo as [(params, response)], following `next`."""
    from urllib.parse import parse_qsl, urlsplit

    out = []
    current = dict(params)
    for _ in range(3):
        response = client.get(LIST_URL, current, **headers)
        out.append((current, response))
        following = response.json().get("next") if response.status_code == 200 else None
        if not following:
            break
        current = dict(parse_qsl(urlsplit(following).query))
    return out


def _count(client, params: dict[str, str], headers: dict) -> tuple[int, int, list[str]]:
    """(status code, statements, their SQL) of one request, the token's UPDATE left out."""
    from django.db import connection as db

    with CaptureQueriesContext(db) as captured:
        response = client.get(LIST_URL, params, **headers)
    sql = [q["sql"] for q in captured.captured_queries]
    kept = [q for q in sql if not q.startswith('UPDATE "agents_apitoken"')]
    return response.status_code, len(kept), kept


def queries(args: argparse.Namespace) -> int:
    from django.test import Client

    data = json.loads(args.setup.read_text())
    client = Client()
    result: dict[str, Any] = {}
    explained: dict[str, Any] = {}
    for role, ws in data["workspaces"].items():
        headers = {"HTTP_HOST": ws["host"], "HTTP_AUTHORIZATION": f"Bearer {ws['tokens'][0]}"}
        client.get(LIST_URL, {}, **headers)  # warm-up: imports, connections, token's last_used_at
        per_combo = {}
        small_page = ("status=any, limit=3", {"status": "any", "limit": "3"})
        for name, params in [*filter_combinations(ws), small_page]:
            pages = _pages(client, ws, params, headers)
            counts = {}
            for page_no, (page_params, _) in enumerate(pages, start=1):
                code, n, sql = _count(client, page_params, headers)
                counts[f"page{page_no}"] = n if code == 200 else f"HTTP {code}"
                if args.explain and role == "large" and page_no in (1, 3):
                    explained[f"{name} page {page_no}"] = _explain(ws, sql)
            per_combo[name] = counts
        result[role] = {"tickets": ws["tickets"], "queries": per_combo}
        connection.set_schema_to_public()
    # One request's statements, to show what they are.
    ws = data["workspaces"]["large"]
    headers = {"HTTP_HOST": ws["host"], "HTTP_AUTHORIZATION": f"Bearer {ws['tokens'][0]}"}
    _, _, sql = _count(client, {}, headers)
    result["statements_of_default_request"] = [q[:160] for q in sql]
    if args.explain:
        result["explain"] = explained
    print(json.dumps(result))
    return 0


def _explain(ws: dict, sql: list[str]) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of the request's ticket query, in the workspace's schema."""
    statement = next((q for q in sql if 'FROM "tickets_ticket"' in q), None)
    if statement is None:
        return {"error": "no ticket query"}
    tenant = Tenant.objects.get(slug=ws["slug"])
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}")
        plan = [row[0] for row in cursor.fetchall()]
    connection.set_schema_to_public()
    execution = next((line for line in plan if line.startswith("Execution Time")), "")
    return {"sql": statement, "execution": execution, "plan": plan}


# --- cleanup --------------------------------------------------------------------------------------


def cleanup(args: argparse.Namespace) -> int:
    data = json.loads(args.setup.read_text())
    for role, ws in data["workspaces"].items():
        tenant = Tenant.objects.filter(slug=ws["slug"]).first()
        if tenant is None:
            continue
        if role == "small":
            tenant_delete(tenant=tenant, confirm_slug=tenant.slug, actor_email="bench/ticket_seed")
            print(f"  deleted workspace {ws['slug']}")
            continue
        seeded = "SELECT id FROM contacts_contact WHERE email LIKE %s"
        pattern = f"%@{SEED_DOMAIN}"
        with tenant_context(tenant), transaction.atomic(), connection.cursor() as cursor:
            deleted = []
            for statement in (
                f"DELETE FROM chat_conversation WHERE contact_id IN ({seeded})",
                f"DELETE FROM tickets_ticket WHERE requester_id IN ({seeded})",
                "DELETE FROM contacts_contact WHERE email LIKE %s",
            ):
                cursor.execute(statement, [pattern])
                deleted.append(cursor.rowcount)
            n_conv, n_tickets, n_contacts = deleted
            ApiToken.objects.filter(name=TOKEN_NAME).delete()
        connection.set_schema_to_public()
        print(
            f"  {ws['slug']}: deleted {n_tickets} tickets, {n_conv} conversations, "
            f"{n_contacts} contacts"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("seed", help="seed the large and the small workspace, make tokens")
    p.add_argument("--slug", default="demo", help="the large workspace (made if missing)")
    p.add_argument("--tickets", type=int, default=100_000)
    p.add_argument("--small-slug", default="bench-small")
    p.add_argument("--small-tickets", type=int, default=10)
    p.add_argument("--agents", type=int, default=20)
    p.add_argument("--days", type=float, default=90, help="created over this many days")
    p.add_argument("--small-days", type=float, default=2)
    p.add_argument(
        "--only", choices=["large", "small"], help="seed one of them (the file keeps the other)"
    )
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--out", type=Path, default=Path("/tmp/ticket-bench.json"))
    p.set_defaults(func=seed)
    p = sub.add_parser("queries", help="SQL statements per list request, in-process (JSON)")
    p.add_argument("--setup", type=Path, default=Path("/tmp/ticket-bench.json"))
    p.add_argument("--explain", action="store_true", help="also EXPLAIN ANALYZE each combo")
    p.set_defaults(func=queries)
    p = sub.add_parser("cleanup", help="delete the seeded rows and the small workspace")
    p.add_argument("--setup", type=Path, default=Path("/tmp/ticket-bench.json"))
    p.set_defaults(func=cleanup)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
