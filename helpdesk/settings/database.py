from helpdesk.settings import env as E

_db = E.env.db_url_config(E.DATABASE_URL)
from urllib.parse import unquote  # noqa: E402

# A Unix socket directory travels percent-encoded in the host part (the embedded server uses one).
_db["HOST"] = unquote(_db.get("HOST") or "")
_db["ENGINE"] = "django_tenants.postgresql_backend"
# Connections are reused across requests but never trusted for their schema: django-tenants sets
# search_path on every request, consumer call and task (see docs/architecture.md).
_db["CONN_MAX_AGE"] = 60
_db["CONN_HEALTH_CHECKS"] = True
# Bounded connects: a black-holed database makes /healthz and requests fail fast, not hang.
_db.setdefault("OPTIONS", {})["connect_timeout"] = 5
# Only statements that ask for it are prepared on the server: the batched chat writes
# (helpdesk/bulk_rows.py), whose text is the same from one batch to the next, so PostgreSQL
# plans them once per connection instead of on every batch. psycopg prepares nothing at all
# while the threshold is None (Django's default), so it is set out of reach instead.
_db["OPTIONS"]["prepare_threshold"] = 2**31 - 1
DATABASES = {"default": _db}
# Send `SET search_path` once after each schema switch instead of before every query: it halves
# the round trips of a chat message. Safe because every entry point still switches schema
# explicitly (which clears the cached value), and django-tenants clears it on rollback and
# savepoint rollback too, where PostgreSQL discards a SET made inside the transaction.
TENANT_LIMIT_SET_CALLS = True
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
