"""Talking to a workspace's IMAP server: connect to a public address only, log in, open a folder,
and turn whatever goes wrong into one sentence the merchant can act on.

Mail servers are named by the merchant, so they are treated like any user-given URL
(SECURITY.md, server-side requests): the host is resolved, every address must be public, and the
socket connects to the address that was checked, not to a second lookup that could answer
differently. IMAP_ALLOW_PRIVATE_HOSTS turns the check off (tests and on-premise installs whose
mail server is on the local network).
"""

from __future__ import annotations

import base64
import imaplib
import ipaddress
import re
import socket
import ssl
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from django.conf import settings

ERROR_MAX_LENGTH = 500
_CODE_RE = re.compile(r"^\[([A-Z0-9.-]+)\]\s*")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class ImapFailure(Exception):
    """Anything that stopped a poll or a test, as the sentence shown in settings."""


class ImapHostRefused(ImapFailure):
    """The host is, or resolves to, an address we never connect to."""


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    use_ssl: bool
    username: str
    password: str
    folder: str


@dataclass(frozen=True)
class ImapFolder:
    """An open folder: the connection, its UIDVALIDITY and how many messages it holds."""

    conn: imaplib.IMAP4
    uid_validity: int
    exists: int


def private_hosts_allowed() -> bool:
    return bool(settings.IMAP_ALLOW_PRIVATE_HOSTS)


def address_is_public(address: str) -> bool:
    """False for loopback, private, link-local (cloud metadata), shared, reserved and multicast
    addresses, including IPv4 ones hidden in IPv6 (::ffff:, 6to4, Teredo, NAT64)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(inner is not None and not address_is_public(str(inner)) for inner in embedded):
            return False
    return ip.is_global and not ip.is_multicast


def _refused(host: str, address: str) -> ImapHostRefused:
    shown = host if host == address else f"{host} ({address})"
    return ImapHostRefused(
        f"{shown} is a local or private network address. Use your mail provider's public "
        "IMAP server, such as imap.gmail.com."
    )


def imap_host_resolve(host: str, port: int) -> list[tuple[int, tuple]]:
    """The (family, sockaddr) pairs to try, every one of them checked.

    Raises ImapHostRefused if any address is not public (a name that resolves to one public and
    one private address is refused too), ImapFailure if the name doesn't resolve.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ImapFailure(f"Can't find the server {host}: check the host name.") from None
    if not private_hosts_allowed():
        for info in infos:
            if not address_is_public(str(info[4][0])):
                raise _refused(host, str(info[4][0]))
    return [(info[0], info[4]) for info in infos]


def _connect_checked(host: str, port: int, timeout: float | None) -> socket.socket:
    last_error: OSError | None = None
    for family, sockaddr in imap_host_resolve(host, port):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        return sock
    raise last_error or OSError("no address to connect to")


class _CheckedIMAP4(imaplib.IMAP4):
    def _create_socket(self, timeout: float | None) -> socket.socket:
        return _connect_checked(self.host, self.port, timeout)


class _CheckedIMAP4SSL(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = _connect_checked(self.host, self.port, timeout)
        # Certificate checked against the host name the merchant typed, not the address.
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def imap_quote(value: str) -> str:
    """An IMAP quoted string (imaplib quotes the password but not the user name or folder)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap_folder_encode(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3), quoted: Entrées → "Entr&AOk-es"."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            utf16 = "".join(pending).encode("utf-16-be")
            out.append("&" + base64_modified(utf16) + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return imap_quote("".join(out))


def base64_modified(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=").replace("/", ",")


def _server_text(value: object) -> str:
    """The server's words from an imaplib error, readable and on one line."""
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", "replace")
    else:
        text = str(value)
        if text.startswith(("b'", 'b"')) and text.endswith(text[1]):
            text = text[2:-1]
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    text = _CODE_RE.sub(lambda m: m.group(1) + " ", " ".join(text.split()))
    return text or "no reason given"


def error_sentence(text: str) -> str:
    return text if len(text) <= ERROR_MAX_LENGTH else text[: ERROR_MAX_LENGTH - 1] + "…"


def _connection_error(server: ImapServer, exc: OSError, *, connected: bool) -> ImapFailure:
    where = f"{server.host}:{server.port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or "it can't be verified"
        return ImapFailure(
            f"Can't connect to {where} securely: the certificate is invalid ({reason})."
        )
    if isinstance(exc, ssl.SSLError):
        hint = " Check the port: 993 is usual with SSL, 143 without." if not connected else ""
        return ImapFailure(
            f"Can't connect to {where}: secure connection failed ({exc.reason}).{hint}"
        )
    if isinstance(exc, TimeoutError):
        reason = "timed out"
    elif isinstance(exc, ConnectionRefusedError):
        reason = "connection refused"
    else:
        reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
    if connected:
        return ImapFailure(f"Lost the connection to {where}: {reason}")
    return ImapFailure(f"Can't connect to {where}: {reason}")


@contextmanager
def imap_session(server: ImapServer, *, timeout: float) -> Iterator[ImapFolder]:
    """Connected, logged in and with the folder open read-only (EXAMINE: flags stay as they are).

    Every failure, here or in the caller's block, leaves as ImapFailure with a sentence for the
    settings page. The connection is logged out (or dropped) on the way out either way.
    """
    conn: imaplib.IMAP4 | None = None
    step = "connect"
    finished = False
    try:
        try:
            if server.use_ssl:
                context = ssl.create_default_context()
                conn = _CheckedIMAP4SSL(
                    server.host, server.port, ssl_context=context, timeout=timeout
                )
            else:
                conn = _CheckedIMAP4(server.host, server.port, timeout=timeout)
                # Upgrade when offered, so the password doesn't cross the network in the clear.
                if "STARTTLS" in conn.capabilities:
                    step = "starttls"
                    conn.starttls(ssl.create_default_context())
            step = "login"
            if "LOGINDISABLED" in conn.capabilities:
                raise ImapFailure(
                    f"{server.host} doesn't allow signing in without encryption: turn on SSL."
                )
            try:
                conn.login(imap_quote(server.username), server.password)
            except UnicodeEncodeError:
                raise ImapFailure(
                    "Login failed: the user name or password has characters other than English "
                    "letters, digits and punctuation, which this server can't accept."
                ) from None
            step = "select"
            typ, data = conn.select(imap_folder_encode(server.folder), readonly=True)
            if typ != "OK":
                reason = _server_text(data[-1] if data else "")
                raise ImapFailure(f"Can't open the folder “{server.folder}”: {reason}")
            validity = conn.response("UIDVALIDITY")[1]
            if not validity or not validity[0] or not bytes(validity[0]).strip().isdigit():
                raise ImapFailure(f"{server.host} didn't say the folder's UIDVALIDITY.")
            exists = data[0] if data and data[0] else b"0"
            step = "session"
            yield ImapFolder(
                conn=conn,
                uid_validity=int(validity[0]),
                exists=int(exists) if bytes(exists).isdigit() else 0,
            )
            finished = True
        except ImapFailure:
            raise
        except imaplib.IMAP4.abort as exc:
            reason = _server_text(exc.args[0] if exc.args else "")
            raise ImapFailure(f"{server.host} closed the connection: {reason}") from None
        except imaplib.IMAP4.error as exc:
            text = _server_text(exc.args[0] if exc.args else "")
            if step == "login":
                raise ImapFailure(f"Login failed: {text}") from None
            if step == "connect":
                raise ImapFailure(
                    f"{server.host} doesn't answer like an IMAP server: {text}"
                ) from None
            raise ImapFailure(f"Mail server error: {text}") from None
        except OSError as exc:
            raise _connection_error(server, exc, connected=step != "connect") from None
    finally:
        if conn is not None:
            # After a failure the connection may be dead: drop it rather than wait for a
            # LOGOUT answer that may never come.
            with suppress(imaplib.IMAP4.error, OSError):
                if finished:
                    conn.logout()
                else:
                    conn.shutdown()
