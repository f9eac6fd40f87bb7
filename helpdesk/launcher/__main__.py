"""`python3 run.py [run|test|manage]` lands here, inside the virtualenv."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from helpdesk.launcher.embedded import EmbeddedPostgres, EmbeddedRedis
from helpdesk.launcher.supervisor import Supervisor

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / ".data"
BIN = Path(sys.executable).parent


def _banner(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


class Environment:
    """DATABASE_URL / REDIS_URL from the caller, or embedded servers started here."""

    def __init__(self, database: str, redis_dir: str = "redis") -> None:
        self.redis_dir = redis_dir
        self.env = dict(os.environ)
        self.pg: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.database = database

    def __enter__(self) -> dict[str, str]:
        if not self.env.get("DATABASE_URL"):
            _banner("Starting embedded PostgreSQL (.data/postgres)")
            self.pg = EmbeddedPostgres(DATA / "postgres", self.database)
            self.env["DATABASE_URL"] = self.pg.start()
        if not self.env.get("REDIS_URL"):
            _banner(f"Starting embedded Redis (.data/{self.redis_dir})")
            self.redis = EmbeddedRedis(DATA / self.redis_dir)
            self.env["REDIS_URL"] = self.redis.start()
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        return self.env

    def __exit__(self, *exc) -> None:
        if self.redis:
            self.redis.stop()
        if self.pg:
            self.pg.stop()


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)


def _wait_port(host: str, port: int, seconds: float) -> bool:
    """Until the web process accepts connections (not /healthz: the worker may still be
    starting, and a 503 at start-up would read like an error to a newcomer)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.3)
    return False


def _process_count(env: dict[str, str], name: str) -> int:
    value = env.get(name, "1")
    try:
        count = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {value!r}") from None
    if not 1 <= count <= 64:
        raise SystemExit(f"{name} must be between 1 and 64")
    return count


def _web_processes(env: dict[str, str]) -> int:
    return _process_count(env, "WEB_PROCESSES")


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1024)
    listener.set_inheritable(True)
    return listener


def run(argv: list[str]) -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    with Environment("helpdesk") as env:
        env.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.dev")
        env.setdefault("DEBUG", "true")
        env.setdefault("EMAIL_URL", "outbox:")
        env.setdefault("PUBLIC_PORT", port)
        env.setdefault("SERVE_STATIC", "true")
        base = env.get("BASE_DOMAIN", "localhost")
        _banner("Migrating and preparing workspaces")
        _manage(env, "bootstrap", "--verbosity", "0")
        _manage(env, "demo_tenant")
        sup = Supervisor(env)
        # Only behind a proxy that sets X-Forwarded-For: trusting it when exposed directly would
        # let clients pick the address the per-IP rate limits count.
        proxy = ["--proxy-headers"] if env.get("TRUST_PROXY_HEADERS", "").lower() == "true" else []
        web_processes = _web_processes(env)
        if web_processes == 1:
            sup.add(
                "web",
                [str(BIN / "daphne"), "-b", host, "-p", port, *proxy, "helpdesk.asgi:application"],
            )
        else:
            # Several daphne processes accept on one listening socket made here (each one uses a
            # core; the kernel spreads the connections), so no proxy is needed on one machine.
            listener = _listening_socket(host, int(port))
            for n in range(1, web_processes + 1):
                sup.add(
                    f"web{n}",
                    [
                        str(BIN / "daphne"),
                        "--fd",
                        str(listener.fileno()),
                        *proxy,
                        "helpdesk.asgi:application",
                    ],
                    pass_fds=(listener.fileno(),),
                )
        sup.add(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "helpdesk",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
                "-n",
                "worker@%h",
            ],
        )
        sup.add(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "helpdesk",
                "beat",
                "-l",
                "info",
                "-s",
                str(DATA / "celerybeat-schedule"),
            ],
        )
        for name, argv_extra in _extra_processes(env):
            sup.add(name, argv_extra)
        sup.start()
        probe_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        if _wait_port(probe_host, int(port), 60):
            login = (
                (DATA / "demo-login.txt").read_text() if (DATA / "demo-login.txt").exists() else ""
            )
            _banner("Helpdesk is running (Ctrl-C stops everything)")
            print(f"    Public site and signup:  http://{base}:{port}/signup/")
            print(f"    Demo workspace:          http://demo.{base}:{port}/")
            print(f"    {login.strip()}")
            print(
                f"    Operator admin:          http://{base}:{port}/operator/  "
                "(create a login: python3 run.py manage createsuperuser)"
            )
            print(f"    Sample store with chat:  http://{base}:{port}/dev/store/")
            print(f"    Email outbox (dev):      http://{base}:{port}/dev/outbox/")
            smtp = _inbound_smtp(env)
            if smtp is not None:
                inbound = env.get("INBOUND_EMAIL_DOMAIN", "mail.localhost")
                print(
                    f"    Email in:                smtp://{smtp[0]}:{smtp[1]}  "
                    f"(send to demo@{inbound})"
                )
            print(f"    Health:                  http://{base}:{port}/healthz\n", flush=True)
        else:
            print(f"The web server did not open port {port} within 60 s; see the web lines above.")
        return sup.wait()


def _inbound_smtp(env: dict[str, str]) -> tuple[str, str] | None:
    """(host, port) of the built-in SMTP receiver, or None when INBOUND_SMTP_ENABLED is off."""
    # The same spellings django-environ reads as true in helpdesk/settings/env.py.
    enabled = env.get("INBOUND_SMTP_ENABLED", "true").strip().lower()
    if enabled not in ("true", "on", "ok", "y", "yes", "1"):
        return None
    return env.get("INBOUND_SMTP_HOST", "127.0.0.1"), env.get("INBOUND_SMTP_PORT", "2525")


def _extra_processes(env: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Processes beside web, worker and beat: the SMTP receiver when it is enabled."""
    if _inbound_smtp(env) is None:
        return []
    count = _process_count(env, "INBOUND_SMTP_PROCESSES")
    argv = [sys.executable, str(ROOT / "manage.py"), "email_receiver"]
    # Several receivers share the port (SO_REUSEPORT); the kernel spreads connections.
    return [("smtp" if count == 1 else f"smtp{n + 1}", argv) for n in range(count)]


def test(argv: list[str]) -> int:
    if os.environ.get("CI", "").lower() == "true" and not (
        shutil.which("chromium") or Path("/usr/bin/chromium").exists()
    ):
        print(
            "CI=true but Chromium is missing: browser tests cannot run. "
            "Install Debian's chromium (see .ci/run).",
            file=sys.stderr,
        )
        return 1
    _banner("ruff and mypy")
    for name, check in (
        ("ruff check (fix: .venv/bin/ruff check --fix .)", [str(BIN / "ruff"), "check", "."]),
        (
            "ruff format (fix: .venv/bin/ruff format .)",
            [str(BIN / "ruff"), "format", "--check", "."],
        ),
        ("mypy", [sys.executable, "-m", "mypy"]),
    ):
        lint = subprocess.run(check, cwd=ROOT)
        if lint.returncode != 0:
            print(f"{name} failed.")
            return lint.returncode
    # Its own Redis server: a development worker running beside the tests must never consume
    # their tasks or hear their broadcasts.
    with Environment("helpdesk", redis_dir="redis-test") as env:
        env["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings.test"
        _banner("pytest")
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "pytest", *argv], env=env, cwd=ROOT)
        print(f"\nTest suite wall time: {time.monotonic() - started:.1f} s", flush=True)
        # pytest's 5 means no tests ran: that is a failure here, never a pass.
        return result.returncode


def manage(argv: list[str]) -> int:
    with Environment("helpdesk") as env:
        env.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.dev")
        env.setdefault("DEBUG", "true")
        env.setdefault("EMAIL_URL", "outbox:")
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *argv], env=env, cwd=ROOT
        ).returncode


def main() -> None:
    command, argv = sys.argv[1], sys.argv[2:]
    sys.exit({"run": run, "test": test, "manage": manage}[command](argv))


if __name__ == "__main__":
    main()
