"""Real headless Chromium (Debian's package) driven by Playwright, against a live test server.

Without Chromium the browser tests skip with the reason, except under CI=true, where a missing
browser is an error: CI must exercise the real UI.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _chromium_path() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM_PATH"),
        shutil.which("chromium"),
        "/usr/bin/chromium",
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture
def chromium():
    """One browser per test: Playwright's sync API keeps an event loop running in this thread
    while it is open, which would break later tests that run their own loop (Channels')."""
    path = _chromium_path()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but Chromium is not installed (apt-get install chromium).")
        pytest.skip("Chromium is not installed; install Debian's chromium to run browser tests.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, and Django would then refuse the
    # test body's (plain synchronous) ORM calls as "async unsafe".
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=path, headless=True, args=CHROMIUM_FLAGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(chromium):
    """Each call opens a page in a fresh browser profile (separate cookies), like a new person."""
    contexts = []

    def _open(**kwargs):
        context = chromium.new_context(viewport={"width": 1280, "height": 860}, **kwargs)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def live_url(live_server, host: str, path: str = "/") -> str:
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


@pytest.fixture
def drop_workspaces_made_in_browser(transactional_db):
    """Workspaces a browser test signs up through the UI are not tracked by make_tenant; drop
    them (schema and rows) afterwards so later tests can reuse the same addresses."""
    from django.db import connection

    from tenants.models import Tenant
    from tenants.services.provisioning import schema_drop

    before = set(Tenant.objects.values_list("schema_name", flat=True))
    yield
    connection.set_schema_to_public()
    for tenant in Tenant.objects.exclude(schema_name__in=before):
        schema = tenant.schema_name
        tenant.delete()
        schema_drop(schema_name=schema)


@pytest.fixture
def daphne(transactional_db, isolated_media, tmp_path):
    """The app served by a real daphne (HTTP and WebSockets) on the test database."""
    from tests.daphne import Daphne

    server = Daphne(media_root=isolated_media, log=tmp_path / "daphne.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
