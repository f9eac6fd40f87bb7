"""Real daphne processes serving the app on the test database and Redis.

pytest-django's live_server speaks WSGI only; browser tests and multi-process tests need the ASGI
app with WebSockets, so they start daphne itself as a subprocess.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

DAPHNE = Path(sys.executable).with_name("daphne")
START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    """The test database, spelled the way settings/database.py reads it (a socket directory as
    host is percent-encoded, as the embedded server's URL is)."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return (
        f"postgres://{quote(db['USER'] or '', safe='')}{password}"
        f"@{quote(db['HOST'] or '127.0.0.1', safe='')}{port}/{db['NAME']}"
    )


test_database_url.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name


class Daphne:
    """daphne serving the app on the test database, Redis and (optionally) media. It can be
    stopped and started again on the same port, as a deploy or a crash would."""

    def __init__(self, *, log: Path, media_root: Path | None = None, serve_static: bool = True):
        self.port = free_port()
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="helpdesk.settings.test",
            DATABASE_URL=test_database_url(),
            SERVE_STATIC="true" if serve_static else "false",
        )
        if media_root is not None:
            self.env["MEDIA_ROOT"] = str(media_root)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(DAPHNE), "-b", "127.0.0.1", "-p", str(self.port), "helpdesk.asgi:application"],
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            cwd=settings.BASE_DIR,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"daphne exited early:\n{self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"daphne did not listen on {self.port}:\n{self.log.read_text()}")
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=20)
        self.proc = None
