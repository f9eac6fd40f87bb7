#!/usr/bin/env python
"""Workspaces, agents and agent sessions for bench/chat_load.py; afterwards, counts and clean-up.

The Django side of the chat benchmark, kept apart from the load client (which speaks only
WebSocket). Run it with the *server's* environment (same DATABASE_URL, REDIS_URL, settings):

    .venv/bin/python bench/chat_setup.py setup --workspaces 10 --agents 20  # → /tmp/chat-bench.json
    .venv/bin/python bench/chat_setup.py count --setup /tmp/chat-bench.json --prefix <run id>
    .venv/bin/python bench/chat_setup.py cleanup --setup /tmp/chat-bench.json

setup   -- creates (or reuses) workspaces `benchchat-00` ... through the real signup service
           (`tenant_signup`), each with its share of the agents (plain agents, as an accepted
           invitation makes them), and signs every agent in: a Django session is created in the
           workspace's schema the way `django.contrib.auth.login` fills one (user id, backend,
           session auth hash), so the agent socket's middleware accepts its key as a cookie.
           Writes hosts, schema names and session keys to --out (a secret-bearing file: keep it
           local and delete it afterwards). Re-running refreshes the sessions.
count   -- per workspace, how many messages whose client_message_id starts with --prefix are
           stored, and the first and last `created_at` (chat_load.py calls this at the end).
cleanup -- deletes the workspaces through the operator service.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db.models import Count, Max, Min  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from tenants.connection import connection  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services.operator import tenant_delete  # noqa: E402
from tenants.services.signup import tenant_signup  # noqa: E402

PASSWORD = "bench-Chat-Quokka-42"
SESSION_AGE = 24 * 3600


def _agent_session(user) -> str:
    """A session as `login()` stores it; the caller has the workspace's schema selected."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(SESSION_AGE)
    session.create()
    assert session.session_key is not None
    return session.session_key


def _workspace(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        tenant = tenant_signup(
            company_name=f"Bench chat {slug[-2:]}",
            slug=slug,
            owner_name="Bench Owner",
            owner_email=f"owner@{slug}.example",
            owner_password=PASSWORD,
        ).tenant
    connection.set_schema_to_public()
    return tenant


def _agents(tenant: Tenant, count: int) -> list:
    from allauth.account.models import EmailAddress

    from chat.models.widget import WidgetSettings
    from tenants.agents.models import User

    users = []
    with tenant_context(tenant):
        # The widget must be on and open to any page (the bench's Origin is the workspace host).
        WidgetSettings.objects.update_or_create(
            pk=1, defaults={"enabled": True, "allowed_domains": []}
        )
        for i in range(count):
            email = f"agent{i:02d}@{tenant.slug}.example"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email=email, password=PASSWORD, name=f"Bench Agent {i:02d}", role="agent"
                )
                EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
            users.append({"email": email, "id": user.pk, "session": _agent_session(user)})
    connection.set_schema_to_public()
    return users


def setup(args: argparse.Namespace) -> int:
    per_workspace = -(-args.agents // args.workspaces)
    workspaces = []
    for i in range(args.workspaces):
        slug = f"{args.slug_prefix}-{i:02d}"
        tenant = _workspace(slug)
        workspaces.append(
            {
                "slug": slug,
                "schema": tenant.schema_name,
                "host": tenant.get_primary_domain().domain,
                "agents": _agents(tenant, per_workspace),
            }
        )
        print(f"  {slug}: {per_workspace} agents signed in", flush=True)
    data = {"session_cookie_name": settings.SESSION_COOKIE_NAME, "workspaces": workspaces}
    args.out.write_text(json.dumps(data, indent=2))
    args.out.chmod(0o600)
    print(f"wrote {args.out}")
    return 0


def count(args: argparse.Namespace) -> int:
    from chat.models.conversations import Message

    data = json.loads(args.setup.read_text())
    result = {}
    for ws in data["workspaces"]:
        tenant = Tenant.objects.get(slug=ws["slug"])
        with tenant_context(tenant):
            row = Message.objects.filter(client_message_id__startswith=args.prefix).aggregate(
                rows=Count("id"),
                ids=Count("client_message_id", distinct=True),
                first=Min("created_at"),
                last=Max("created_at"),
            )
        connection.set_schema_to_public()
        result[ws["slug"]] = {
            "rows": row["rows"],
            "distinct_client_ids": row["ids"],
            "first": row["first"].timestamp() if row["first"] else None,
            "last": row["last"].timestamp() if row["last"] else None,
        }
    print(json.dumps(result))
    return 0


def cleanup(args: argparse.Namespace) -> int:
    data = json.loads(args.setup.read_text())
    for ws in data["workspaces"]:
        tenant = Tenant.objects.filter(slug=ws["slug"]).first()
        if tenant is not None:
            tenant_delete(tenant=tenant, confirm_slug=tenant.slug, actor_email="bench/chat_setup")
            print(f"  deleted {ws['slug']}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("setup", help="create or reuse workspaces and agents, sign agents in")
    p.add_argument("--workspaces", type=int, default=10)
    p.add_argument("--agents", type=int, default=20, help="in total, spread evenly")
    p.add_argument("--slug-prefix", default="benchchat")
    p.add_argument("--out", type=Path, default=Path("/tmp/chat-bench.json"))
    p.set_defaults(func=setup)
    p = sub.add_parser("count", help="stored messages of one run, per workspace (JSON)")
    p.add_argument("--setup", type=Path, default=Path("/tmp/chat-bench.json"))
    p.add_argument("--prefix", required=True, help="client_message_id prefix of the run")
    p.set_defaults(func=count)
    p = sub.add_parser("cleanup", help="delete the bench workspaces")
    p.add_argument("--setup", type=Path, default=Path("/tmp/chat-bench.json"))
    p.set_defaults(func=cleanup)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
