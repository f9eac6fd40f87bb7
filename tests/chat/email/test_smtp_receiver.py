"""The built-in SMTP receiver, spoken to with smtplib over a real socket."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from chat.email.smtp_receiver import InboundSmtpServer
from chat.models import EmailMessage
from helpdesk.launcher.__main__ import _extra_processes
from helpdesk.tickets.models import Ticket
from tests.chat.email.mail import mail_bytes
from tests.daphne import free_port, test_database_url

SENDER = "ana@example.com"


def mail(*, to: str, subject: str, body: str = "Where is my parcel?") -> bytes:
    raw = mail_bytes(sender=f"Ana Silva <{SENDER}>", to=to, subject=subject, body=body)
    return raw.replace(b"\n", b"\r\n")  # on the wire, as a mail client sends it


def address(slug: str) -> str:
    return f"{slug}@{settings.INBOUND_EMAIL_DOMAIN}"


def ticket_subjects(tenant) -> list[str]:
    with tenant_context(tenant):
        return list(Ticket.objects.order_by("number").values_list("subject", flat=True))


def stored_mail_count(tenant) -> int:
    with tenant_context(tenant):
        return EmailMessage.objects.count()


@pytest.fixture
def receiver(transactional_db, settings):
    settings.EMAIL_MAX_BYTES = 64 * 1024
    server = InboundSmtpServer(host="127.0.0.1", port=free_port())
    server.start()
    yield server
    server.stop()


def smtp(receiver: InboundSmtpServer) -> smtplib.SMTP:
    client = smtplib.SMTP(receiver.host, receiver.port, timeout=30)
    client.ehlo()
    return client


def test_accepted_mail_becomes_a_ticket_in_that_workspace_only(receiver, tenant, other_tenant):
    with smtp(receiver) as client:
        refused = client.sendmail(
            SENDER, [address("acme")], mail(to=address("acme"), subject="Parcel 1234 missing")
        )

    assert refused == {}
    assert ticket_subjects(tenant) == ["Parcel 1234 missing"]
    assert ticket_subjects(other_tenant) == []
    assert stored_mail_count(other_tenant) == 0


def test_each_workspace_sees_only_the_mail_sent_to_it(receiver, tenant, other_tenant):
    with smtp(receiver) as client:
        client.sendmail(SENDER, [address("acme")], mail(to=address("acme"), subject="For Acme"))
        client.sendmail(
            SENDER, [address("globex")], mail(to=address("globex"), subject="For Globex")
        )

    assert ticket_subjects(tenant) == ["For Acme"]
    assert ticket_subjects(other_tenant) == ["For Globex"]


def test_unknown_recipient_is_refused_with_550_and_nothing_is_stored(receiver, tenant):
    with smtp(receiver) as client:
        for recipient in (address("nosuchshop"), "acme@elsewhere.example"):
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                client.sendmail(SENDER, [recipient], mail(to=recipient, subject="Lost"))
            assert refused.value.recipients[recipient] == (550, b"5.1.1 No such mailbox")

    assert ticket_subjects(tenant) == []
    assert stored_mail_count(tenant) == 0


def test_mail_to_known_and_unknown_recipients_reaches_the_known_one(receiver, tenant):
    recipients = [address("nosuchshop"), address("acme")]
    with smtp(receiver) as client:
        refused = client.sendmail(SENDER, recipients, mail(to=address("acme"), subject="Both"))

    assert list(refused) == [address("nosuchshop")]
    assert ticket_subjects(tenant) == ["Both"]


def test_too_large_mail_is_refused_with_552_and_nothing_is_stored(receiver, tenant):
    big = mail(to=address("acme"), subject="Huge", body="A line of a long mail.\n" * 3000)
    with smtp(receiver) as client:
        # smtplib announces the size (SIZE=) when the server advertises a limit: refused at once.
        with pytest.raises(smtplib.SMTPSenderRefused) as announced:
            client.sendmail(SENDER, [address("acme")], big)
        assert announced.value.smtp_code == 552
        # A client that does not announce it is refused when the data passes the limit.
        client.rset()
        client.mail(SENDER)
        client.rcpt(address("acme"))
        code, _ = client.data(big)
        assert code == 552

    assert ticket_subjects(tenant) == []
    assert stored_mail_count(tenant) == 0


def test_a_failure_while_storing_answers_451_and_the_retry_is_stored_once(receiver, tenant):
    message = mail(to=address("acme"), subject="Retry me")
    with smtp(receiver) as client:
        client.mail(SENDER)
        assert client.rcpt(address("acme"))[0] == 250
        # The workspace's tables vanish between RCPT and DATA (a database fault): storing fails.
        with connection.cursor() as cur:
            cur.execute(f'ALTER SCHEMA "{tenant.schema_name}" RENAME TO "away_for_a_moment"')
        try:
            code, reply = client.data(message)
        finally:
            with connection.cursor() as cur:
                cur.execute(f'ALTER SCHEMA "away_for_a_moment" RENAME TO "{tenant.schema_name}"')
        assert (code, reply) == (451, b"4.3.0 Try again later")
        assert ticket_subjects(tenant) == []

        # The sending server retries the same mail, twice even: one ticket, one message.
        client.sendmail(SENDER, [address("acme")], message)
        client.sendmail(SENDER, [address("acme")], message)

    assert ticket_subjects(tenant) == ["Retry me"]
    assert stored_mail_count(tenant) == 1


def test_a_workspace_suspended_between_rcpt_and_data_gets_nothing(receiver, tenant):
    with smtp(receiver) as client:
        client.mail(SENDER)
        assert client.rcpt(address("acme"))[0] == 250
        tenant.status = type(tenant).Status.SUSPENDED
        tenant.save(update_fields=["status"])
        code, _ = client.data(mail(to=address("acme"), subject="Too late"))

    assert code == 550
    assert ticket_subjects(tenant) == []


def test_sessions_are_served_side_by_side(receiver, tenant):
    """A session left open half-way (a slow sender) does not hold up another one."""
    slow, fast = smtp(receiver), smtp(receiver)
    try:
        slow.mail(SENDER)
        slow.rcpt(address("acme"))
        fast.sendmail(SENDER, [address("acme")], mail(to=address("acme"), subject="Fast"))
        assert ticket_subjects(tenant) == ["Fast"]
        assert slow.data(mail(to=address("acme"), subject="Slow"))[0] == 250
    finally:
        slow.quit()
        fast.quit()

    assert sorted(ticket_subjects(tenant)) == ["Fast", "Slow"]


def test_management_command_receives_until_sigterm(transactional_db, tenant, tmp_path):
    port = free_port()
    log = tmp_path / "receiver.log"
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "email_receiver", "--host", "127.0.0.1", "--port", str(port)],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
            "DATABASE_URL": test_database_url(),
        },
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        client = _connect_when_listening(proc, port, log)
        with client:
            client.sendmail(
                SENDER, [address("acme")], mail(to=address("acme"), subject="Via the command")
            )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert ticket_subjects(tenant) == ["Via the command"]
    output = log.read_text()
    assert f"on smtp://127.0.0.1:{port}" in output
    assert "Mail for acme@" in output and "status=stored" in output
    assert "Where is my parcel?" not in output  # the log never holds the mail itself
    assert "Stopped receiving mail" in output


def _connect_when_listening(proc: subprocess.Popen, port: int, log) -> smtplib.SMTP:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"email_receiver exited early:\n{log.read_text()}")
        try:
            return smtplib.SMTP("127.0.0.1", port, timeout=30)
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"email_receiver did not listen on {port}:\n{log.read_text()}")
            time.sleep(0.2)


def test_run_command_supervises_the_receiver_only_when_enabled():
    assert [name for name, _ in _extra_processes({})] == ["smtp"]
    assert [name for name, _ in _extra_processes({"INBOUND_SMTP_ENABLED": "true"})] == ["smtp"]
    argv = _extra_processes({})[0][1]
    assert argv[-2:] == [str(settings.BASE_DIR / "manage.py"), "email_receiver"]
    assert _extra_processes({"INBOUND_SMTP_ENABLED": "false"}) == []
    two = _extra_processes({"INBOUND_SMTP_PROCESSES": "2"})
    assert [name for name, _ in two] == ["smtp1", "smtp2"]
    with pytest.raises(SystemExit, match="INBOUND_SMTP_PROCESSES"):
        _extra_processes({"INBOUND_SMTP_PROCESSES": "0"})


def test_two_receivers_share_one_port_and_both_store(transactional_db, tenant):
    port = free_port()
    first = InboundSmtpServer(host="127.0.0.1", port=port)
    second = InboundSmtpServer(host="127.0.0.1", port=port)
    first.start()
    second.start()
    try:
        for n in range(6):
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                client.sendmail(
                    SENDER, [address("acme")], mail(to=address("acme"), subject=f"S{n}")
                )
    finally:
        second.stop()
        first.stop()
    assert sorted(ticket_subjects(tenant)) == [f"S{n}" for n in range(6)]
