"""Runs several processes with their output interleaved, each line prefixed with its name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

COLOURS = ["\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m"]
RESET = "\033[0m"


@dataclass
class Proc:
    name: str
    argv: list[str]
    pass_fds: tuple[int, ...] = ()
    popen: subprocess.Popen | None = None
    threads: list[threading.Thread] = field(default_factory=list)


class Supervisor:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.procs: list[Proc] = []
        self.lock = threading.Lock()
        self.colour = sys.stdout.isatty()
        self.width = 6

    def add(self, name: str, argv: list[str], *, pass_fds: tuple[int, ...] = ()) -> None:
        self.procs.append(Proc(name, argv, pass_fds=pass_fds))
        self.width = max(self.width, len(name))

    def say(self, name: str, line: str) -> None:
        index = next((i for i, p in enumerate(self.procs) if p.name == name), 0)
        prefix = f"{name:<{self.width}} | "
        if self.colour:
            prefix = f"{COLOURS[index % len(COLOURS)]}{prefix}{RESET}"
        with self.lock:
            sys.stdout.write(prefix + line.rstrip("\n") + "\n")
            sys.stdout.flush()

    def _pump(self, proc: Proc) -> None:
        assert proc.popen is not None and proc.popen.stdout is not None
        for raw in iter(proc.popen.stdout.readline, b""):
            self.say(proc.name, raw.decode("utf-8", "replace"))

    def start(self) -> None:
        for proc in self.procs:
            proc.popen = subprocess.Popen(
                proc.argv,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C is handled here, then passed on in order
                pass_fds=proc.pass_fds,
            )
            thread = threading.Thread(target=self._pump, args=(proc,), daemon=True)
            thread.start()
            proc.threads.append(thread)

    def wait(self) -> int:
        """Block until Ctrl-C / SIGTERM or until any process exits; then stop them all."""
        stop = threading.Event()
        previous = {
            s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)
        }
        code = 0
        try:
            while not stop.is_set():
                for proc in self.procs:
                    if proc.popen is not None and proc.popen.poll() is not None:
                        self.say(
                            proc.name,
                            f"exited with code {proc.popen.returncode}; stopping everything",
                        )
                        code = proc.popen.returncode or 1
                        stop.set()
                        break
                stop.wait(0.5)
        finally:
            self.stop_all()
            for s, handler in previous.items():
                signal.signal(s, handler)
        return code

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.popen is not None and proc.popen.poll() is None:
                os.killpg(proc.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs:
            if proc.popen is None:
                continue
            try:
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait()
        for proc in self.procs:
            for thread in proc.threads:
                thread.join(2)
