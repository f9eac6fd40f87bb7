"""Test-session wiring shared by every package's tests.

The test database gets the public schema migrated and one migrated template schema per session;
every workspace a test needs is cloned from that template by the real signup service, so the
suite stays fast as migrations grow. Tests under `db` roll their schemas back with the
transaction; tests under `transactional_db` get them dropped at teardown.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from tests.factories import TenantFactory


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from tenants.services.platform import public_tenant_ensure
    from tenants.services.provisioning import template_schema_ensure

    with django_db_blocker.unblock():
        public_tenant_ensure()
        template_schema_ensure()
        connection.set_schema_to_public()
    yield
    # Threads that served live-server, WebSocket or worker tests may still hold a connection of
    # their own; end them so the test database can be dropped instead of left behind.
    with django_db_blocker.unblock(), connection.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def _uses_db(request) -> bool:
    names = set(request.fixturenames)
    return bool(
        names & {"db", "transactional_db", "live_server", "django_db_reset_sequences"}
        or request.node.get_closest_marker("django_db")
    )


@pytest.fixture(autouse=True)
def _public_schema_between_tests(request):
    """Requests switch the connection's schema; never let one test inherit another's.

    A transactional test's teardown truncates the public tables, the public tenant's row and
    its hosts included, so every database test starts by making sure they exist.
    """
    if _uses_db(request):
        from tenants.services.platform import public_tenant_ensure

        request.getfixturevalue("_django_db_helper")
        public_tenant_ensure()
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def isolated_cache(settings):
    """A cache namespace of the test's own. Tests reuse workspace names and user ids ("acme",
    owner id 1), so rate-limit counters and used-TOTP marks would otherwise carry over."""
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"t-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


@pytest.fixture
def isolated_media(settings, tmp_path):
    """Uploads go to a temporary MEDIA_ROOT. TenantFileSystemStorage caches its root and does
    not notice the setting change by itself, hence the cache clearing."""
    from django.core.files.storage import storages

    storage = storages["default"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    storage.__dict__.pop("relative_media_root", None)
    yield tmp_path / "media"
    storage.__dict__.pop("relative_media_root", None)


@pytest.fixture
def make_tenant(request):
    """Create workspaces through the signup service; drop any that outlive the test."""
    created = []

    def _make(**kwargs):
        tenant = TenantFactory(**kwargs)
        created.append(tenant.schema_name)
        return tenant

    yield _make

    marker = request.node.get_closest_marker("django_db")
    committed = (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or bool(marker and marker.kwargs.get("transaction"))
    )
    if committed:
        from tenants.models import Tenant
        from tenants.services.provisioning import schema_drop

        connection.set_schema_to_public()
        for schema in created:
            Tenant.objects.filter(schema_name=schema).delete()
            schema_drop(schema_name=schema)


@pytest.fixture
def tenant(make_tenant):
    return make_tenant(slug="acme", company_name="Acme")


@pytest.fixture
def other_tenant(make_tenant):
    return make_tenant(slug="globex", company_name="Globex")


from tests.smtp import smtp_sink  # noqa: E402,F401  (fixture: a real SMTP server for mail tests)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    """A new database connection for every test, opened on first use.

    A PostgreSQL backend that has cloned workspace schemas and rolled them back keeps growing
    (about 10 MB per workspace, measured) and gets slower with every clone, so one connection for
    the whole session makes the suite slow down as it grows. This runs after every fixture's
    teardown, when the test's transaction has already been rolled back.
    """
    yield
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close()
