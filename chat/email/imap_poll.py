"""IMAP polling: new mail in the workspace's mailboxes becomes tickets, each message fetched once.

The mailbox row remembers the folder's UIDVALIDITY and the highest UID handled. `last_uid` moves
forward after each message is stored, so a poll that dies half way (worker killed, connection
lost) resumes with the first message not yet stored: nothing stored is fetched again and nothing
unstored is skipped. When the server renumbers the folder (a new UIDVALIDITY) the folder is read
again from the start; ingestion recognises the mails it already has by their Message-ID.

Problems with the server are stored on the mailbox (`last_error`, shown in settings) and never
raised: a wrong password must not crash the worker or stop other workspaces' polls.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta

import redis
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from redis.exceptions import LockError

from chat.email.imap_client import (
    ImapFailure,
    ImapFolder,
    ImapServer,
    error_sentence,
    imap_session,
)
from chat.email.ingest import email_ingest
from chat.models import ImapMailbox
from helpdesk.secrets_box import SecretUnreadable, secret_decrypt
from tenants.connection import connection

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
BATCH_SIZE = 50
# One poll handles at most this many messages and stops starting batches after the budget; the
# rest waits for the next poll a minute later, so one huge folder can't hold a worker for long.
MAX_MESSAGES_PER_POLL = 500
POLL_BUDGET_SECONDS = 240
# Longer than any poll can take (the budget plus a batch whose every read waits the full
# timeout), so the lock never expires under a running poll.
LOCK_TTL_SECONDS = 900
# A newly connected mailbox brings in what arrived shortly before, not years of old mail (each
# would become a ticket, perhaps with an auto-reply).
BACKFILL_DAYS = 14

_UID_RE = re.compile(rb"\bUID (\d+)")
_SIZE_RE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class PollResult:
    mailbox_id: int
    status: str  # "ok" | "error" | "busy"
    fetched: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # ingest status → count
    skipped_too_large: list[int] = field(default_factory=list)
    error: str = ""


# ---- the per-mailbox lock ----

_redis_client: redis.Redis | None = None
_redis_guard = threading.Lock()


def _redis() -> redis.Redis:
    global _redis_client
    with _redis_guard:
        if _redis_client is None:
            _redis_client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
        return _redis_client


@contextmanager
def imap_mailbox_lock(*, mailbox_id: int) -> Iterator[bool]:
    """Yields whether this process now holds the mailbox's poll lock (never waits for it).

    Two workers polling one mailbox would fetch the same new messages; ingestion would store
    them once, but the lock saves the double download and keeps `last_uid` moving one way.
    """
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    key = f"{prefix}:{connection.schema_name}:imap-poll.{mailbox_id}"
    lock = _redis().lock(key, timeout=LOCK_TTL_SECONDS, blocking=False)
    acquired = bool(lock.acquire(blocking=False))
    try:
        yield acquired
    finally:
        if acquired:
            with suppress(LockError):  # expired: someone else may hold it now, leave theirs
                lock.release()


# ---- talking to the folder ----


def _imap_date(value) -> str:
    return f"{value.day:02d}-{_MONTHS[value.month - 1]}-{value.year}"


def _uids_after(folder: ImapFolder, *, last_uid: int, since: str) -> list[int]:
    typ, data = folder.conn.uid("SEARCH", f"UID {last_uid + 1}:* SINCE {since}")
    if typ != "OK":
        raise ImapFailure(f"Mail server error: searching the folder failed ({typ}).")
    found = {
        int(token) for line in data if line for token in bytes(line).split() if token.isdigit()
    }
    # "N:*" always includes the highest UID, even when it is below N (RFC 3501: "*" is the
    # largest UID in use), so a folder with nothing new answers with the last old message.
    return sorted(uid for uid in found if uid > last_uid)


def _fetch(folder: ImapFolder, uids: list[int], items: str) -> dict[int, list]:
    """UID → [the FETCH line, its literal if any] for the given message data items."""
    typ, data = folder.conn.uid("FETCH", ",".join(str(uid) for uid in uids), items)
    if typ != "OK":
        raise ImapFailure(f"Mail server error: fetching messages failed ({typ}).")
    found: dict[int, list] = {}
    for part in data:
        head = part[0] if isinstance(part, tuple) else part
        if not isinstance(head, bytes | bytearray):
            continue
        match = _UID_RE.search(head)
        if match is not None:
            found[int(match.group(1))] = list(part) if isinstance(part, tuple) else [part]
    return found


def _sizes(folder: ImapFolder, uids: list[int]) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for uid, parts in _fetch(folder, uids, "(UID RFC822.SIZE)").items():
        match = _SIZE_RE.search(parts[0])
        if match is not None:
            sizes[uid] = int(match.group(1))
    return sizes


def _bodies(folder: ImapFolder, uids: list[int]) -> dict[int, bytes]:
    # BODY.PEEK leaves \Seen alone: the merchant's own mail client still shows the mail as new.
    return {
        uid: bytes(parts[1])
        for uid, parts in _fetch(folder, uids, "(UID BODY.PEEK[])").items()
        if len(parts) > 1 and isinstance(parts[1], bytes | bytearray)
    }


# ---- polling ----


def _size_text(size: int) -> str:
    mib = 1024 * 1024
    return f"{size // mib} MB" if size >= mib else f"{max(1, size // 1024)} KB"


def _mailbox_server(mailbox: ImapMailbox) -> ImapServer:
    return ImapServer(
        host=mailbox.host,
        port=mailbox.port,
        use_ssl=mailbox.use_ssl,
        username=mailbox.username,
        password=secret_decrypt(mailbox.password_encrypted),
        folder=mailbox.folder,
    )


def _failed(rows: QuerySet[ImapMailbox], result: PollResult, message: str) -> PollResult:
    result.status, result.error = "error", error_sentence(message)
    rows.update(last_error=result.error, last_error_at=timezone.now())
    return result


def imap_mailbox_poll(*, mailbox: ImapMailbox) -> PollResult:
    """Fetch the folder's new messages and ingest them in the current workspace. Never raises."""
    result = PollResult(mailbox_id=mailbox.pk, status="ok")
    # Writes only while the row still describes the mailbox being read: an admin pointing it at
    # another server or folder mid-poll starts that one from scratch.
    rows = ImapMailbox.objects.filter(
        pk=mailbox.pk, host=mailbox.host, username=mailbox.username, folder=mailbox.folder
    )
    rows.update(last_polled_at=timezone.now())
    try:
        server = _mailbox_server(mailbox)
    except SecretUnreadable as exc:
        return _failed(rows, result, str(exc))

    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + POLL_BUDGET_SECONDS
    since = _imap_date(mailbox.created_at - timedelta(days=BACKFILL_DAYS))
    try:
        with imap_session(server, timeout=TIMEOUT_SECONDS) as folder:
            last_uid = mailbox.last_uid
            if mailbox.uid_validity != folder.uid_validity:
                last_uid = 0
                rows.update(uid_validity=folder.uid_validity, last_uid=0)
            uids = _uids_after(folder, last_uid=last_uid, since=since)[:MAX_MESSAGES_PER_POLL]
            for start in range(0, len(uids), BATCH_SIZE):
                if time.monotonic() > deadline:
                    break
                batch = uids[start : start + BATCH_SIZE]
                sizes = _sizes(folder, batch)
                wanted = [uid for uid in batch if sizes.get(uid, 0) <= settings.EMAIL_MAX_BYTES]
                bodies = _bodies(folder, wanted) if wanted else {}
                for uid in batch:
                    if uid in bodies:
                        outcome = email_ingest(bodies[uid], source="imap")
                        outcomes[outcome.status] += 1
                        result.fetched += 1
                    elif uid in sizes and uid not in wanted:
                        result.skipped_too_large.append(uid)
                    # else: deleted from the folder since the search; nothing to store.
                    rows.update(last_uid=uid)
    except ImapFailure as exc:
        result.outcomes = dict(outcomes)
        return _failed(rows, result, str(exc))
    except Exception:
        # A bug of ours, not the server's: logged for us, a sentence for the merchant, and the
        # other mailboxes still get their turn. The next poll retries from `last_uid`.
        log.exception("IMAP poll of mailbox %s failed", mailbox.pk)
        result.outcomes = dict(outcomes)
        return _failed(
            rows,
            result,
            "Something went wrong on our side while checking the mailbox; "
            "it will be tried again in a minute.",
        )

    result.outcomes = dict(outcomes)
    now = timezone.now()
    note = ""
    if result.skipped_too_large:
        note = (
            f"{len(result.skipped_too_large)} message(s) over the "
            f"{_size_text(settings.EMAIL_MAX_BYTES)} limit were left in the mailbox and not "
            "turned into tickets."
        )
    if note:
        rows.update(last_success_at=now, last_error=note, last_error_at=now)
    else:
        rows.update(last_success_at=now, last_error="")
    return result


def imap_mailboxes_poll() -> list[PollResult]:
    """Poll every enabled mailbox of the current workspace, each under its lock."""
    results: list[PollResult] = []
    ids = ImapMailbox.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True)
    for mailbox_id in list(ids):
        with imap_mailbox_lock(mailbox_id=mailbox_id) as acquired:
            if not acquired:
                results.append(PollResult(mailbox_id=mailbox_id, status="busy"))
                continue
            # Read after taking the lock: the previous holder moved last_uid on.
            mailbox = ImapMailbox.objects.filter(pk=mailbox_id, enabled=True).first()
            if mailbox is not None:
                results.append(imap_mailbox_poll(mailbox=mailbox))
    return results
