#!/usr/bin/env python3
"""One command to run the platform, one to test it. Needs only Python 3.11+ and git.

    python3 run.py            # embedded PostgreSQL + Redis (unless DATABASE_URL / REDIS_URL are
                              # set), migrations, demo workspace, then web + worker + beat
    python3 run.py test       # ruff + the whole pytest suite (extra arguments go to pytest)
    python3 run.py manage ... # any manage.py command, with the same environment

This file uses the standard library only: it creates .venv when missing, installs the project
into it when pyproject.toml changed, and hands over to helpdesk.launcher inside the venv.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - say so clearly on an old Python
        sys.exit("Python 3.11 or newer is required.")
    if not PY.exists():
        print("Creating virtualenv in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = f".[{extras}]" if extras else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + spec.encode()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"Installing {spec} into .venv (first run or dependencies changed) ...", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run([*pip, "-e", spec], check=True, cwd=ROOT)
    stamp.write_text(digest)


def main() -> None:
    args = sys.argv[1:]
    command = args[0] if args and not args[0].startswith("-") else "run"
    rest = args[1:] if args and not args[0].startswith("-") else args
    if command not in {"run", "test", "manage"}:
        sys.exit(f"Unknown command {command!r}. Use: run | test | manage")
    _ensure_venv("dev" if command == "test" else "")
    os.chdir(ROOT)
    os.execv(str(PY), [str(PY), "-m", "helpdesk.launcher", command, *rest])


if __name__ == "__main__":
    main()
