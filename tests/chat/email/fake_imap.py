"""A small IMAP4rev1 server for tests, speaking the real protocol over TCP on 127.0.0.1.

Enough of RFC 3501 for a poller built on the standard library's imaplib: CAPABILITY, NOOP,
LOGIN, SELECT / EXAMINE (with UIDVALIDITY and UIDNEXT), UID SEARCH (UID sets, SINCE, ALL),
UID FETCH (UID, RFC822.SIZE, BODY[] / BODY.PEEK[] as literals) and LOGOUT. Sequence sets follow
the RFC, quirk included: "*" is the highest UID in use, so "5:*" in a folder whose last UID is 3
matches UID 3.

Tests change the folders while the server runs (add a message, renumber a folder) and read what
clients did (logins, UIDs fetched) from the server object.
"""

from __future__ import annotations

import re
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_TOKEN_RE = re.compile(r'"((?:[^"\\]|\\.)*)"|(\([^)]*\))|(\S+)')


@dataclass
class FakeMessage:
    uid: int
    raw: bytes
    internal_date: date


@dataclass
class FakeFolder:
    uid_validity: int
    messages: list[FakeMessage] = field(default_factory=list)
    uid_next: int = 1

    def add(self, raw: bytes, *, internal_date: date | None = None) -> int:
        uid = self.uid_next
        self.uid_next += 1
        self.messages.append(FakeMessage(uid, raw, internal_date or date.today()))
        return uid


class FakeImapServer:
    """Start with `start()`, stop with `stop()`; `port` is a free port chosen by the OS."""

    def __init__(self, *, username: str = "support@shop.example", password: str = "s3cret pass"):
        self.accounts = {username: password}
        self.folders: dict[str, FakeFolder] = {"INBOX": FakeFolder(uid_validity=1001)}
        self.lock = threading.Lock()
        self.logins: list[str] = []  # user names that signed in
        self.failed_logins = 0
        self.connections = 0
        self.fetched: list[int] = []  # UIDs whose bodies were sent, in order
        # Drop the connection when the n-th body FETCH command arrives (1-based), as a crash
        # or a network cut half way through a poll would.
        self.drop_on_body_fetch: int | None = None
        self._body_fetches = 0
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- test controls ----

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    def add(self, raw: bytes, *, folder: str = "INBOX", internal_date: date | None = None) -> int:
        with self.lock:
            return self.folders[folder].add(raw, internal_date=internal_date)

    def expunge(self, uid: int, *, folder: str = "INBOX") -> None:
        with self.lock:
            box = self.folders[folder]
            box.messages = [m for m in box.messages if m.uid != uid]

    def renumber(self, *, folder: str = "INBOX", uid_validity: int, first_uid: int = 1) -> None:
        """What a server does after rebuilding its index: same mail, new UIDs and UIDVALIDITY."""
        with self.lock:
            old = self.folders[folder]
            new = FakeFolder(uid_validity=uid_validity, uid_next=first_uid)
            for message in old.messages:
                new.add(message.raw, internal_date=message.internal_date)
            self.folders[folder] = new

    def start(self) -> FakeImapServer:
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30

            def handle(self) -> None:
                fake._session(self.rfile, self.wfile)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ---- the protocol ----

    def _session(self, rfile, wfile) -> None:
        with self.lock:
            self.connections += 1
        user: str | None = None
        selected: str | None = None

        def send(line: str | bytes) -> None:
            wfile.write(line if isinstance(line, bytes) else line.encode())
            wfile.flush()

        send("* OK [CAPABILITY IMAP4rev1] Fake IMAP ready\r\n")
        while True:
            try:
                line = rfile.readline(65536)
            except (OSError, ValueError):
                return
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            tag, _, rest = text.partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                sub, _, args = args.partition(" ")
                command = "UID " + sub.upper()
            try:
                if command == "CAPABILITY":
                    send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
                    send(f"{tag} OK CAPABILITY completed\r\n")
                elif command == "NOOP":
                    send(f"{tag} OK NOOP completed\r\n")
                elif command == "LOGOUT":
                    send("* BYE Fake IMAP logging out\r\n")
                    send(f"{tag} OK LOGOUT completed\r\n")
                    return
                elif command == "LOGIN":
                    name, password = _tokens(args)[:2]
                    if self.accounts.get(name) == password:
                        user = name
                        with self.lock:
                            self.logins.append(name)
                        send(f"{tag} OK LOGIN completed\r\n")
                    else:
                        with self.lock:
                            self.failed_logins += 1
                        send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n")
                elif user is None:
                    send(f"{tag} BAD Command not allowed before LOGIN\r\n")
                elif command in ("SELECT", "EXAMINE"):
                    name = _tokens(args)[0]
                    name = "INBOX" if name.upper() == "INBOX" else name
                    with self.lock:
                        folder = self.folders.get(name)
                        if folder is None:
                            selected = None
                            send(f"{tag} NO [NONEXISTENT] Unknown Mailbox: {name}\r\n")
                            continue
                        selected = name
                        send(f"* {len(folder.messages)} EXISTS\r\n* 0 RECENT\r\n")
                        send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n")
                        send(f"* OK [UIDVALIDITY {folder.uid_validity}] UIDs valid\r\n")
                        send(f"* OK [UIDNEXT {folder.uid_next}] Predicted next UID\r\n")
                    mode = "READ-ONLY" if command == "EXAMINE" else "READ-WRITE"
                    send(f"{tag} OK [{mode}] {command} completed\r\n")
                elif selected is None:
                    send(f"{tag} BAD No mailbox selected\r\n")
                elif command == "UID SEARCH":
                    with self.lock:
                        found = _search(self.folders[selected], args)
                    send(("* SEARCH " + " ".join(str(uid) for uid in found)).rstrip() + "\r\n")
                    send(f"{tag} OK SEARCH completed\r\n")
                elif command == "UID FETCH":
                    uid_set, _, items = args.partition(" ")
                    wants_body = "BODY" in items.upper()
                    if wants_body:
                        self._body_fetches += 1
                        if self._body_fetches == self.drop_on_body_fetch:
                            return  # connection cut without a word
                    with self.lock:
                        folder = self.folders[selected]
                        matches = _matching(folder, uid_set)
                        for seq, message in enumerate(folder.messages, start=1):
                            if message.uid not in matches:
                                continue
                            parts = [f"UID {message.uid}"]
                            if "RFC822.SIZE" in items.upper():
                                parts.append(f"RFC822.SIZE {len(message.raw)}")
                            if wants_body:
                                head = " ".join(parts) + f" BODY[] {{{len(message.raw)}}}\r\n"
                                send(f"* {seq} FETCH (".encode() + head.encode())
                                send(message.raw + b")\r\n")
                                self.fetched.append(message.uid)
                            else:
                                send(f"* {seq} FETCH ({' '.join(parts)})\r\n")
                    send(f"{tag} OK FETCH completed\r\n")
                else:
                    send(f"{tag} BAD Unknown command\r\n")
            except (OSError, ValueError):
                return
            except Exception as exc:  # a malformed command: say so, like a real server
                send(f"{tag} BAD {type(exc).__name__}\r\n")


def _tokens(args: str) -> list[str]:
    """Atoms and quoted strings, quotes removed and escapes undone."""
    result = []
    for quoted, paren, atom in _TOKEN_RE.findall(args):
        if quoted or (not paren and not atom):
            result.append(re.sub(r"\\(.)", r"\1", quoted))
        else:
            result.append(paren or atom)
    return result


def _matching(folder: FakeFolder, uid_set: str) -> set[int]:
    if not folder.messages:
        return set()
    highest = folder.messages[-1].uid
    wanted: set[int] = set()
    for piece in uid_set.split(","):
        low, _, high = piece.partition(":")
        a = highest if low == "*" else int(low)
        b = a if not high else (highest if high == "*" else int(high))
        lo, hi = min(a, b), max(a, b)
        wanted |= {m.uid for m in folder.messages if lo <= m.uid <= hi}
    return wanted


def _imap_date(value: str) -> date:
    day, month, year = value.split("-")
    return date(int(year), _MONTHS.index(month.title()) + 1, int(day))


def _search(folder: FakeFolder, criteria: str) -> list[int]:
    tokens = _tokens(criteria)
    found = {m.uid for m in folder.messages}
    i = 0
    while i < len(tokens):
        key = tokens[i].upper()
        if key == "ALL":
            i += 1
        elif key == "UID":
            found &= _matching(folder, tokens[i + 1])
            i += 2
        elif key == "SINCE":
            since = _imap_date(tokens[i + 1])
            found &= {m.uid for m in folder.messages if m.internal_date >= since}
            i += 2
        else:
            raise ValueError(f"unsupported search key {key}")
    return sorted(found)


def days_ago(days: int) -> date:
    return (datetime.now() - timedelta(days=days)).date()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
