#!/usr/bin/env python
"""Email ingestion through the SMTP receiver: accepted mails per second and SMTP latency.

A benchmark, not a test. It starts no server and needs no Django: it speaks SMTP to a running
receiver (`manage.py email_receiver`, or the one `python3 run.py` starts) the way a relaying MTA
would, and reads the database at the end to check what was stored. docs/benchmarks.md has the
full recipe; in short:

    # the product, with its own database (the run command migrates and makes workspace `demo`)
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_tickets
    REDIS_URL=redis://127.0.0.1:6379/7 DEBUG=false PORT=8124 INBOUND_SMTP_PORT=2526 python3 run.py

    # the load (DATABASE_URL only for the check at the end)
    .venv/bin/python bench/email_ingest.py --port 2526 --slug demo -n 2000 -c 4

What is sent: -n mails to `<slug>@<domain>` over -c SMTP connections, each connection kept open
for many mails (one thread per connection, stdlib smtplib: MAIL, RCPT, DATA per mail, no
pipelining). The mails are built before the clock starts and look like a shop's support inbox:
multipart/alternative (text + HTML), a share of them with a small PNG attached (multipart/mixed),
from a pool of customers. A share are replies (`Re:` subject, In-Reply-To and References naming
an earlier mail of the run, the earlier text quoted in both parts): a reply is sent only after
the mail it answers was accepted, so it must land on that mail's ticket.

The receiver answers 250 only after the mail is stored as a message on a ticket, so an accepted
mail is an ingested one. Measured:

* accepted mails/s: overall (first MAIL to last 250) and steady (the middle of the run, warm-up
  and tail left out);
* per-mail SMTP transaction latency (sendmail(): MAIL + RCPT + DATA until the 250) p50/p95/p99;
* refusals by SMTP reply code (a 4xx is not retried: it shows as a refusal);
* with DATABASE_URL: in the workspace's schema, the stored email messages of this run (their
  Message-IDs carry the run id) against the accepted mails (none lost, none doubled), the
  tickets they opened against the new threads sent, every reply on its thread's ticket, and the
  attachments stored against the PNGs sent.

Machine CPU and, with --server-pid / --cpu-match, the server processes' CPU are reported in % of
one core (bench/chat_load.py's meter, polled every second so PostgreSQL backends that close
during the run still count), and per accepted mail in ms. Ends with a summary block and a JSON
line.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import queue
import random
import secrets
import smtplib
import socket
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chat_load import CpuMeter, machine, percentiles

TARGET_PER_S = 50.0
MAIL_DOMAIN = "mail.bench.example"  # of the bench's Message-IDs

FIRST_NAMES = ["Ana", "Li", "Sam", "Noah", "Mia", "Omar", "Yuki", "Lena", "Raj", "Zoe", "Ivan"]
LAST_NAMES = ["Silva", "Wang", "Smith", "Müller", "García", "Kim", "Rossi", "Haddad", "Novak"]
SUBJECTS = [
    "Where is my order #{n}?",
    "Refund for order {n}",
    "Wrong size delivered",
    "Item arrived damaged (order {n})",
    "Can I change my shipping address?",
    "Discount code not working",
    "Question about the warranty",
    "Invoice for order #{n}",
    "Cancel my subscription",
    "Package marked delivered but not here",
]
SENTENCES = [
    "I placed the order last week and the tracking page has not moved since Tuesday.",
    "Could you tell me when it will ship?",
    "The box was open when it arrived and one of the cups is broken.",
    "I would like to return it and get my money back, not a voucher.",
    "My address changed; the new one is 12 Harbour Street, flat 3.",
    "The code SPRING20 says it has expired although the email said it runs until Sunday.",
    "I attached a photo so you can see what I mean.",
    "Thanks for getting back to me so quickly.",
    "Is there anything else you need from me?",
    "I have been a customer for years and this never happened before.",
    "Please send the invoice with my company name on it.",
    "Any news on this? I still have not heard back.",
]


# --- the mails ------------------------------------------------------------------------------------


def png_bytes(width: int, height: int, seed: int) -> bytes:
    """A small valid RGB PNG (a gradient), made with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    # One filter byte per row, then width RGB pixels.
    rows = b"".join(
        b"\x00"
        + b"".join(
            bytes(((x * 7 + seed) % 256, (y * 5 + seed) % 256, ((x ^ y) + seed) % 256))
            for x in range(width)
        )
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )


@dataclass
class Mail:
    index: int
    message_id: str  # without <>
    sender: str
    raw: bytes
    root: int  # index of the mail that started its thread (itself for a new thread)
    parent: int | None  # the mail it answers
    has_png: bool


@dataclass
class Thread:
    root: int
    customer: tuple[str, str]  # name, address
    subject: str
    ids: list[str] = field(default_factory=list)  # Message-IDs in the thread, oldest first
    last_text: str = ""
    last_date: str = ""


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_mail(
    *,
    rng: random.Random,
    index: int,
    run_id: str,
    to: str,
    thread: Thread,
    reply: bool,
    png: bytes | None,
) -> Mail:
    name, address = thread.customer
    sentences = rng.sample(SENTENCES, rng.randint(2, 5))
    text = "Hello,\n\n" + " ".join(sentences) + f"\n\nBest regards,\n{name}\n"
    html_body = (
        '<div dir="ltr"><p>Hello,</p><p>'
        + " ".join(_html_escape(s) for s in sentences)
        + f"</p><p>Best regards,<br>{_html_escape(name)}</p></div>"
    )
    message_id = f"{run_id}.{index}.{secrets.token_hex(4)}@{MAIL_DOMAIN}"
    mail = EmailMessage()
    mail["From"] = formataddr((name, address))
    mail["To"] = to
    mail["Subject"] = ("Re: " if reply else "") + thread.subject
    date = format_datetime(dt.datetime.now(dt.UTC))
    mail["Date"] = date
    mail["Message-ID"] = f"<{message_id}>"
    mail["MIME-Version"] = "1.0"
    mail["User-Agent"] = "Bench Mail 1.0"
    if reply:
        quoted = "\n".join("> " + line for line in thread.last_text.splitlines())
        text += f"\nOn {thread.last_date}, {name} <{address}> wrote:\n{quoted}\n"
        html_body += (
            f'<div class="gmail_quote"><div class="gmail_attr">On {_html_escape(thread.last_date)}'
            f", {_html_escape(name)} &lt;{_html_escape(address)}&gt; wrote:</div>"
            '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc '
            'solid;padding-left:1ex">'
            + _html_escape(thread.last_text).replace("\n", "<br>")
            + "</blockquote></div>"
        )
        mail["In-Reply-To"] = f"<{thread.ids[-1]}>"
        mail["References"] = " ".join(f"<{i}>" for i in thread.ids[-10:])
    mail.set_content(text)
    mail.add_alternative(f"<html><body>{html_body}</body></html>", subtype="html")
    if png is not None:
        mail.add_attachment(png, maintype="image", subtype="png", filename=f"photo-{index}.png")
    parent = thread_parent_index(thread) if reply else None
    thread.ids.append(message_id)
    thread.last_text = text
    thread.last_date = date
    return Mail(
        index=index,
        message_id=message_id,
        sender=address,
        raw=mail.as_bytes(policy=SMTP_POLICY),  # CRLF line ends, as on the wire
        root=thread.root,
        parent=parent,
        has_png=png is not None,
    )


def thread_parent_index(thread: Thread) -> int:
    # The Message-ID reads "<run>.<index>.<random>@…".
    return int(thread.ids[-1].split(".")[1])


def build_mails(args: argparse.Namespace, run_id: str) -> list[Mail]:
    rng = random.Random(args.seed)
    to = f"{args.slug}@{args.domain}"
    customers = [
        (
            f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            f"customer{k}.{run_id}@shop-customers.example",
        )
        for k in range(args.customers)
    ]
    pngs = [png_bytes(rng.randint(24, 64), rng.randint(24, 64), seed) for seed in range(8)]
    threads: list[Thread] = []
    mails: list[Mail] = []
    # A reply answers a mail at least this many places earlier, so its parent is normally
    # stored by the time it goes out (the sender also waits for it, see Sender).
    lag = 4 * args.concurrency
    for i in range(args.count):
        eligible = [t for t in threads if thread_parent_index(t) <= i - lag]
        reply = bool(eligible) and rng.random() < args.reply_share
        if reply:
            thread = rng.choice(eligible[-200:])  # people answer recent threads
        else:
            thread = Thread(
                root=i,
                customer=rng.choice(customers),
                subject=rng.choice(SUBJECTS).format(n=rng.randint(10_000, 99_999)),
            )
            threads.append(thread)
        png = rng.choice(pngs) if rng.random() < args.attachment_share else None
        mails.append(
            build_mail(rng=rng, index=i, run_id=run_id, to=to, thread=thread, reply=reply, png=png)
        )
    return mails


class PolledCpuMeter(CpuMeter):
    """CpuMeter that also samples every second: processes that come and go during the run
    (PostgreSQL backends of connections the receiver recycles after CONN_MAX_AGE) count up to
    their last sample instead of not at all."""

    def start(self) -> None:
        super().start()
        self.seen: dict[str, dict[str, float]] = {}
        self._done = threading.Event()
        self._poller = threading.Thread(target=self._poll, daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._done.wait(1.0):
            for key, value in self._sample().items():
                if isinstance(value, dict):
                    self.seen.setdefault(key, {}).update(value)

    def stop(self) -> dict[str, float]:
        self._done.set()
        self._poller.join()
        last = self._sample()
        wall = last["wall"] - self.first["wall"]
        result = {}
        for key, value in last.items():
            if key == "wall" or key not in self.first:
                continue
            if isinstance(value, dict):
                merged = {**self.seen.get(key, {}), **value}
                used = sum(v - self.first[key].get(pid, 0.0) for pid, v in merged.items())
            else:
                used = value - self.first[key]
            result[key] = round(100 * used / wall, 1)
        return result


# --- sending ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    accepted: dict[int, float] = field(default_factory=dict)  # index → latency ms
    accepted_at: dict[int, float] = field(default_factory=dict)  # index → perf_counter
    refused: Counter = field(default_factory=Counter)  # SMTP code or exception name → mails
    refused_indexes: set[int] = field(default_factory=set)
    reconnects: int = 0
    parent_waits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Sender(threading.Thread):
    """One SMTP connection, reused for every mail it takes from the shared queue."""

    def __init__(
        self,
        *,
        args: argparse.Namespace,
        work: queue.Queue,
        mails: list[Mail],
        done: list[threading.Event],
        outcome: Outcome,
        start_gate: threading.Barrier,
    ) -> None:
        super().__init__(daemon=True)
        self.args, self.work, self.mails, self.done = args, work, mails, done
        self.outcome, self.start_gate = outcome, start_gate
        self.to = f"{args.slug}@{args.domain}"
        self.smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(
            self.args.host, self.args.port, local_hostname="bench-client.local", timeout=120
        )
        smtp.ehlo()
        return smtp

    def _drop(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError):
                self.smtp.close()
        self.smtp = None

    def run(self) -> None:
        try:
            self.smtp = self._connect()
        except OSError:
            self.smtp = None  # _send reconnects, or counts the mail as refused
        self.start_gate.wait()
        while True:
            index = self.work.get()
            if index is None:
                break
            mail = self.mails[index]
            if mail.parent is not None and not self.done[mail.parent].is_set():
                with self.outcome.lock:
                    self.outcome.parent_waits += 1
                self.done[mail.parent].wait(60)
            self._send(mail)
            self.done[index].set()
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()

    def _send(self, mail: Mail) -> None:
        o = self.outcome
        if self.smtp is None:
            with o.lock:
                o.reconnects += 1
            try:
                self.smtp = self._connect()
            except OSError as exc:
                with o.lock:
                    o.refused[type(exc).__name__] += 1
                    o.refused_indexes.add(mail.index)
                return
        started = time.perf_counter()
        reason = ""
        try:
            self.smtp.sendmail(mail.sender, [self.to], mail.raw)
        except smtplib.SMTPRecipientsRefused as exc:
            reason = str(next(iter(exc.recipients.values()))[0])
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            reason = str(exc.smtp_code)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPException, OSError) as exc:
            reason = type(exc).__name__
            self._drop()
        ended = time.perf_counter()
        with o.lock:
            if reason:
                o.refused[reason] += 1
                o.refused_indexes.add(mail.index)
            else:
                o.accepted[mail.index] = (ended - started) * 1000
                o.accepted_at[mail.index] = ended


def send_all(args: argparse.Namespace, mails: list[Mail]) -> tuple[Outcome, float, float]:
    work: queue.Queue = queue.Queue()
    for mail in mails:
        work.put(mail.index)
    for _ in range(args.concurrency):
        work.put(None)
    outcome = Outcome()
    done = [threading.Event() for _ in mails]
    gate = threading.Barrier(args.concurrency + 1)
    senders = [
        Sender(args=args, work=work, mails=mails, done=done, outcome=outcome, start_gate=gate)
        for _ in range(args.concurrency)
    ]
    for s in senders:
        s.start()
    gate.wait()  # every connection open and greeted: the clock starts now
    started = time.perf_counter()
    last_report = started
    while any(s.is_alive() for s in senders):
        time.sleep(0.2)
        now = time.perf_counter()
        if now - last_report >= args.progress:
            last_report = now
            n = len(outcome.accepted)
            print(
                f"  {now - started:5.0f} s: {n} accepted ({n / (now - started):.1f}/s), "
                f"{sum(outcome.refused.values())} refused",
                flush=True,
            )
    ended = time.perf_counter()
    return outcome, started, ended


def steady_rate(times: list[float], started: float, ended: float) -> float:
    """Accepts per second between 10 % and 90 % of the run (warm-up and tail left out)."""
    span = ended - started
    lo, hi = started + 0.1 * span, started + 0.9 * span
    n = sum(1 for t in times if lo <= t <= hi)
    return n / (hi - lo) if hi > lo else 0.0


# --- the check in the database -------------------------------------------------------------


def db_check(args: argparse.Namespace, run_id: str, mails: list[Mail], outcome: Outcome) -> dict:
    import psycopg

    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT schema_name FROM public.tenants_tenant WHERE slug = %s", [args.slug]
        ).fetchone()
        if row is None:
            return {"error": f"no workspace {args.slug!r} in this database"}
        schema = row[0]
        conn.execute(f'SET search_path TO "{schema}", public')
        rows = conn.execute(
            """
            SELECT e.message_id_header, m.id, c.ticket_id,
                   (SELECT count(*) FROM chat_attachment a WHERE a.message_id = m.id)
            FROM chat_emailmessage e
            JOIN chat_message m ON m.id = e.message_id
            JOIN chat_conversation c ON c.id = m.conversation_id
            WHERE e.direction = 'in' AND e.message_id_header LIKE %s
            """,
            [f"%{run_id}.%@{MAIL_DOMAIN}%"],
        ).fetchall()
    by_id: dict[str, tuple[int, int, int]] = {}
    duplicates = 0
    for header, message_pk, ticket_pk, attachments in rows:
        key = header.strip("<>")
        if key in by_id:
            duplicates += 1
        by_id[key] = (message_pk, ticket_pk, attachments)
    accepted = [mails[i] for i in sorted(outcome.accepted)]
    missing = [m.index for m in accepted if m.message_id not in by_id]
    sent_ids = {m.message_id for m in mails}
    unexpected = [k for k in by_id if k not in sent_ids]
    refused_but_stored = [i for i in outcome.refused_indexes if mails[i].message_id in by_id]
    # Threading: every stored mail of a thread on the ticket of the thread's first mail.
    ticket_of_root: dict[int, int] = {}
    misthreaded = 0
    for mail in accepted:
        stored = by_id.get(mail.message_id)
        if stored is None:
            continue
        expected = ticket_of_root.setdefault(mail.root, stored[1])
        if stored[1] != expected:
            misthreaded += 1
    roots_stored = {m.root for m in accepted if m.message_id in by_id}
    tickets = {v[1] for v in by_id.values()}
    png_sent = sum(1 for m in accepted if m.has_png)
    png_stored = sum(by_id[m.message_id][2] for m in accepted if m.message_id in by_id)
    return {
        "schema": schema,
        "stored": len(by_id),
        "rows": len(rows),
        "duplicates": duplicates,
        "missing": len(missing),
        "unexpected": len(unexpected),
        "refused_but_stored": len(refused_but_stored),
        "threads": len(roots_stored),
        "tickets": len(tickets),
        "misthreaded_replies": misthreaded,
        "attachments_sent": png_sent,
        "attachments_stored": png_stored,
    }


# --- report ---------------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--slug", default="demo", help="the workspace; mails go to <slug>@domain")
    parser.add_argument("--domain", default="mail.localhost", help="INBOUND_EMAIL_DOMAIN")
    parser.add_argument("-n", "--count", type=int, default=2000, help="mails to send")
    parser.add_argument("-c", "--concurrency", type=int, default=4, help="SMTP connections")
    parser.add_argument("--customers", type=int, default=400, help="distinct senders")
    parser.add_argument("--reply-share", type=float, default=0.35, help="share of replies")
    parser.add_argument("--attachment-share", type=float, default=0.15, help="share with a PNG")
    parser.add_argument("--seed", type=int, default=4, help="for the mails' content")
    parser.add_argument("--progress", type=float, default=10, help="seconds between progress lines")
    parser.add_argument(
        "--server-pid",
        type=int,
        action="append",
        default=[],
        help="also report this process's CPU (repeatable: the receiver, ...)",
    )
    parser.add_argument(
        "--cpu-match",
        action="append",
        default=[],
        help="also report the summed CPU of processes whose command line contains this "
        "(repeatable), e.g. the database name for its PostgreSQL backends",
    )
    parser.add_argument("--no-db-check", action="store_true", help="skip the database check")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()

    run_id = "b" + secrets.token_hex(3)
    built = time.perf_counter()
    mails = build_mails(args, run_id)
    sizes = [len(m.raw) for m in mails]
    replies = sum(1 for m in mails if m.parent is not None)
    with_png = sum(1 for m in mails if m.has_png)
    print(
        f"run {run_id}: {len(mails)} mails to {args.slug}@{args.domain} over {args.concurrency} "
        f"connections to {args.host}:{args.port} ({replies} replies, {with_png} with a PNG, "
        f"{sum(sizes) / len(sizes) / 1024:.1f} KiB average; built in "
        f"{time.perf_counter() - built:.1f} s)",
        flush=True,
    )
    try:
        socket.create_connection((args.host, args.port), timeout=5).close()
    except OSError as exc:
        raise SystemExit(f"No SMTP receiver on {args.host}:{args.port}: {exc}") from None

    info = machine()
    meter = PolledCpuMeter(args.server_pid, args.cpu_match)
    meter.start()
    outcome, started, ended = send_all(args, mails)
    cpu = meter.stop()

    latencies = list(outcome.accepted.values())
    accept_times = list(outcome.accepted_at.values())
    last = max(accept_times) if accept_times else ended
    accepted = len(outcome.accepted)
    rate = accepted / (last - started) if accepted else 0.0
    steady = steady_rate(accept_times, started, last)
    lat = percentiles(latencies)
    summary: dict[str, Any] = {
        "bench": "email_ingest",
        "run": run_id,
        "target": f"{args.host}:{args.port}",
        "workspace": args.slug,
        "sent": len(mails),
        "replies": replies,
        "with_png": with_png,
        "avg_kib": round(sum(sizes) / len(sizes) / 1024, 1),
        "concurrency": args.concurrency,
        "accepted": accepted,
        "refused": dict(outcome.refused),
        "reconnects": outcome.reconnects,
        "parent_waits": outcome.parent_waits,
        "seconds": round(last - started, 2),
        "accepted_per_s": round(rate, 1),
        "steady_per_s": round(steady, 1),
        "ratio_to_target": round(rate / TARGET_PER_S, 2),
        "latency_ms": {k: (round(v, 1) if v is not None else None) for k, v in lat.items()},
        "cpu_percent": cpu,
        # CPU time per accepted mail: what a process spends on one mail, less sensitive to other
        # load on the machine than the rate.
        "cpu_ms_per_mail": {
            k: round(v / 100 * (ended - started) * 1000 / accepted, 1) if accepted else None
            for k, v in cpu.items()
            if k != "machine"
        },
        "machine": info,
    }
    if not args.no_db_check and os.environ.get("DATABASE_URL"):
        summary["db"] = db_check(args, run_id, mails, outcome)

    print()
    for key, value in info.items():
        print(f"{key:>10}: {value}")
    print(f"{'sent':>10}: {len(mails)} ({replies} replies, {with_png} with a PNG)")
    print(
        f"{'accepted':>10}: {accepted} in {last - started:.1f} s, refused {dict(outcome.refused)}"
    )
    print(
        f"{'rate':>10}: {rate:.1f} mails/s overall, {steady:.1f}/s steady "
        f"(target ≥ {TARGET_PER_S:.0f}/s: {rate / TARGET_PER_S:.2f}×)"
    )
    print(
        f"{'latency':>10}: p50 {_num(lat['p50'])} ms, p95 {_num(lat['p95'])} ms, "
        f"p99 {_num(lat['p99'])} ms, max {_num(lat['max'])} ms (MAIL+RCPT+DATA → 250)"
    )
    print(f"{'cpu %':>10}: {cpu}")
    print(f"{'cpu ms':>10}: {summary['cpu_ms_per_mail']} per mail")
    db = summary.get("db")
    if db:
        if "error" in db:
            print(f"{'database':>10}: {db['error']}")
        else:
            ok = (
                db["stored"] == accepted
                and not db["duplicates"]
                and not db["missing"]
                and not db["misthreaded_replies"]
                and db["tickets"] == db["threads"]
                and db["attachments_stored"] == db["attachments_sent"]
            )
            print(
                f"{'database':>10}: {db['stored']} stored for {accepted} accepted "
                f"(missing {db['missing']}, duplicates {db['duplicates']}, refused but stored "
                f"{db['refused_but_stored']}); {db['tickets']} tickets for {db['threads']} "
                f"threads, misthreaded replies {db['misthreaded_replies']}; attachments "
                f"{db['attachments_stored']}/{db['attachments_sent']} → "
                + ("OK" if ok else "MISMATCH")
            )
            summary["db_ok"] = ok
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
