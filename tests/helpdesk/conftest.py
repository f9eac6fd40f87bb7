"""A real Celery worker, for the tests that must prove what happens outside eager mode."""

from __future__ import annotations

import pytest


@pytest.fixture
def live_worker(transactional_db):
    """An in-process worker thread consuming from the test Redis, with eager mode off.

    The worker has its own DB connection, hence `transactional_db`. Every wait on it has a
    timeout (start, ping, results, shutdown) and the tests using it carry a pytest-timeout mark,
    so a broken worker fails the test instead of hanging CI.
    """
    import celery.contrib.testing.tasks  # noqa: F401 - registers celery.ping for the start check
    from celery.contrib.testing.worker import start_worker

    from helpdesk.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with start_worker(
            app,
            pool="solo",
            concurrency=1,
            perform_ping_check=True,
            ping_task_timeout=20,
            shutdown_timeout=20,
        ) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = previous
