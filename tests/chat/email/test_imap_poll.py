"""IMAP polling against a real IMAP server (tests/chat/email/fake_imap.py) on 127.0.0.1.

Each message is fetched once across polls, progress survives a cut connection and a renumbered
folder, and every problem with the server ends up on the settings page, never as an exception
out of the task.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from chat.email.imap_poll import imap_mailbox_lock
from chat.models import EmailMessage, ImapMailbox
from chat.services.email_settings import imap_mailbox_save
from chat.tasks import imap_mailboxes_poll_task
from helpdesk.jobs import tenants_fan_out_task
from helpdesk.secrets_box import secret_decrypt
from helpdesk.tickets.models import Ticket
from tenants.connection import connection
from tests.chat.email.fake_imap import FakeImapServer, closed_port, days_ago
from tests.chat.email.mail import mail_bytes
from tests.tenants.agents.clients import owner_of, signed_in

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret pass"
USER = "support@shop.example"


@pytest.fixture
def imap(settings, isolated_media):
    settings.IMAP_ALLOW_PRIVATE_HOSTS = True
    server = FakeImapServer(username=USER, password=PASSWORD).start()
    yield server
    server.stop()


def _mail(n: int, **kw) -> bytes:
    return mail_bytes(
        message_id=f"imap-{n}@customer.example",
        subject=kw.pop("subject", f"Order question {n}"),
        to="support@shop.example",
        **kw,
    )


def _connect(tenant, *, port: int, password: str = PASSWORD, **fields) -> ImapMailbox:
    """The mailbox as the owner saves it on the settings page."""
    owner = owner_of(tenant)
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "use_ssl": False,
        "username": USER,
        "password": password,
        "folder": "INBOX",
        "enabled": True,
    }
    values.update(fields)
    with tenant_context(tenant):
        mailbox = imap_mailbox_save(actor=owner, **values)
    connection.set_schema_to_public()
    return mailbox


def _poll(tenant) -> list[dict]:
    with tenant_context(tenant):
        results = imap_mailboxes_poll_task()
    connection.set_schema_to_public()
    return results


def _mailbox(tenant) -> ImapMailbox:
    with tenant_context(tenant):
        return ImapMailbox.objects.get()


def _stored(tenant) -> list[str]:
    with tenant_context(tenant):
        return sorted(
            EmailMessage.objects.filter(source="imap").values_list("message_id_header", flat=True)
        )


def _ticket_subjects(tenant) -> list[str]:
    with tenant_context(tenant):
        return sorted(Ticket.objects.values_list("subject", flat=True))


def test_each_message_is_fetched_once_across_polls(tenant, imap):
    imap.add(_mail(1))
    imap.add(_mail(2))
    _connect(tenant, port=imap.port)

    first = _poll(tenant)

    assert first[0]["status"] == "ok" and first[0]["fetched"] == 2
    assert _ticket_subjects(tenant) == ["Order question 1", "Order question 2"]
    mailbox = _mailbox(tenant)
    assert (mailbox.uid_validity, mailbox.last_uid) == (1001, 2)
    assert mailbox.last_success_at is not None and mailbox.last_error == ""

    imap.add(_mail(3))
    second = _poll(tenant)
    # Nothing new: the server answers "UID 4:*" with UID 3 (the RFC's "*"); it isn't re-fetched.
    third = _poll(tenant)

    assert second[0]["fetched"] == 1 and third[0]["fetched"] == 0
    assert imap.fetched == [1, 2, 3]
    assert _stored(tenant) == [f"imap-{n}@customer.example" for n in (1, 2, 3)]
    assert len(_ticket_subjects(tenant)) == 3
    assert _mailbox(tenant).last_uid == 3


def test_polling_leaves_mail_unread_and_in_the_mailbox(tenant, imap):
    imap.add(_mail(1))
    _connect(tenant, port=imap.port)

    _poll(tenant)

    # Opened read-only and fetched with BODY.PEEK: the merchant's mail client still sees it.
    assert len(imap.folders["INBOX"].messages) == 1


def test_a_cut_connection_resumes_after_the_last_stored_message(tenant, imap):
    for n in range(1, 61):
        imap.add(_mail(n))
    _connect(tenant, port=imap.port)
    imap.drop_on_body_fetch = 2  # the second batch of 50 never arrives

    cut = _poll(tenant)

    assert cut[0]["status"] == "error" and cut[0]["fetched"] == 50
    mailbox = _mailbox(tenant)
    assert mailbox.last_uid == 50
    assert "127.0.0.1 closed the connection" in mailbox.last_error
    assert len(_stored(tenant)) == 50

    imap.drop_on_body_fetch = None
    resumed = _poll(tenant)

    assert resumed[0]["status"] == "ok" and resumed[0]["fetched"] == 10
    assert imap.fetched == list(range(1, 61))  # none twice, none skipped
    assert len(_stored(tenant)) == 60
    assert _mailbox(tenant).last_error == ""


def test_a_renumbered_folder_is_read_again_without_duplicates(tenant, imap):
    for n in (1, 2, 3):
        imap.add(_mail(n))
    _connect(tenant, port=imap.port)
    _poll(tenant)

    # The server rebuilt its index after mail 1 was deleted: mails 2 and 3 are now UIDs 1 and 2,
    # and the new mail 4 gets UID 3, below the last UID seen under the old UIDVALIDITY.
    imap.expunge(1)
    imap.renumber(uid_validity=2002, first_uid=1)
    imap.add(_mail(4))
    result = _poll(tenant)

    mailbox = _mailbox(tenant)
    assert (mailbox.uid_validity, mailbox.last_uid) == (2002, 3)
    assert result[0]["outcomes"] == {"duplicate": 2, "stored": 1}
    assert _stored(tenant) == [f"imap-{n}@customer.example" for n in (1, 2, 3, 4)]
    assert len(_ticket_subjects(tenant)) == 4


def test_a_wrong_password_shows_in_settings_and_the_task_does_not_raise(tenant, imap):
    imap.add(_mail(1))
    _connect(tenant, port=imap.port, password="not-the-password")

    results = _poll(tenant)

    assert results[0]["status"] == "error"
    mailbox = _mailbox(tenant)
    assert mailbox.last_error == "Login failed: AUTHENTICATIONFAILED Invalid credentials (Failure)"
    assert mailbox.last_error_at is not None and mailbox.last_success_at is None
    assert _stored(tenant) == [] and imap.fetched == []

    page = signed_in(tenant, owner_of(tenant)).get("/settings/email/")

    assert page.status_code == 200
    assert b"The last check failed" in page.content
    assert b"Login failed: AUTHENTICATIONFAILED Invalid credentials (Failure)" in page.content
    assert b"Not working" in page.content


def test_a_server_that_is_down_is_reported(tenant, imap):
    port = closed_port()
    _connect(tenant, port=port)

    results = _poll(tenant)

    assert results[0]["status"] == "error"
    assert _mailbox(tenant).last_error == f"Can't connect to 127.0.0.1:{port}: connection refused"
    page = signed_in(tenant, owner_of(tenant)).get("/settings/email/")
    assert f"Can&#x27;t connect to 127.0.0.1:{port}: connection refused".encode() in page.content


def test_a_missing_folder_is_reported(tenant, imap):
    _connect(tenant, port=imap.port, folder="Support")

    _poll(tenant)

    assert _mailbox(tenant).last_error == (
        "Can't open the folder “Support”: NONEXISTENT Unknown Mailbox: Support"
    )


def test_fixing_the_password_clears_the_error_after_the_next_poll(tenant, imap):
    imap.add(_mail(1))
    _connect(tenant, port=imap.port, password="wrong")
    _poll(tenant)

    _connect(tenant, port=imap.port, password=PASSWORD)
    assert _mailbox(tenant).last_error == ""  # the new settings haven't failed yet
    _poll(tenant)

    mailbox = _mailbox(tenant)
    assert mailbox.last_error == "" and mailbox.last_success_at is not None
    assert len(_stored(tenant)) == 1


def test_the_password_is_stored_encrypted(tenant, imap):
    _connect(tenant, port=imap.port)

    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("SELECT password_encrypted FROM chat_imapmailbox")
        (stored,) = cursor.fetchone()
    connection.set_schema_to_public()

    assert PASSWORD not in stored and "s3cret" not in stored
    assert secret_decrypt(stored) == PASSWORD


def test_a_changed_secret_key_asks_for_the_password_again(tenant, imap, settings):
    imap.add(_mail(1))
    _connect(tenant, port=imap.port)
    settings.SECRET_KEY = "a-completely-different-secret-key-0123456789abcdef"

    _poll(tenant)

    assert _mailbox(tenant).last_error == (
        "Stored password can't be decrypted (was SECRET_KEY changed?) — enter it again."
    )
    assert imap.connections == 0 and _stored(tenant) == []


def test_mail_from_long_before_connecting_is_not_imported(tenant, imap):
    imap.add(_mail(1), internal_date=days_ago(40))
    imap.add(_mail(2), internal_date=days_ago(3))
    _connect(tenant, port=imap.port)

    _poll(tenant)

    assert _stored(tenant) == ["imap-2@customer.example"]
    assert _mailbox(tenant).last_uid == 2


def test_a_message_over_the_size_limit_is_left_in_the_mailbox(tenant, imap, settings):
    settings.EMAIL_MAX_BYTES = 4000
    imap.add(_mail(1, body="x" * 5000))
    imap.add(_mail(2))
    _connect(tenant, port=imap.port)

    result = _poll(tenant)

    assert result[0]["skipped_too_large"] == [1] and imap.fetched == [2]
    assert _stored(tenant) == ["imap-2@customer.example"]
    mailbox = _mailbox(tenant)
    assert mailbox.last_uid == 2
    assert "1 message(s) over the 3 KB limit" in mailbox.last_error
    page = signed_in(tenant, owner_of(tenant)).get("/settings/email/")
    assert b"Note from the last check" in page.content


def test_a_mailbox_being_polled_elsewhere_is_skipped(tenant, imap):
    imap.add(_mail(1))
    mailbox = _connect(tenant, port=imap.port)

    with tenant_context(tenant), imap_mailbox_lock(mailbox_id=mailbox.pk) as held:
        assert held
        busy = imap_mailboxes_poll_task()
        with imap_mailbox_lock(mailbox_id=mailbox.pk) as second:
            assert not second
    connection.set_schema_to_public()

    assert busy == [
        {
            "mailbox_id": mailbox.pk,
            "status": "busy",
            "fetched": 0,
            "outcomes": {},
            "skipped_too_large": [],
            "error": "",
        }
    ]
    assert imap.connections == 0

    assert _poll(tenant)[0]["fetched"] == 1  # released: the next run polls


def test_a_paused_mailbox_is_not_polled(tenant, imap):
    imap.add(_mail(1))
    _connect(tenant, port=imap.port, enabled=False)

    assert _poll(tenant) == []
    assert imap.connections == 0


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "169.254.169.254", "::ffff:127.0.0.1"],
)
def test_private_addresses_are_refused_when_saving(tenant, settings, host):
    settings.IMAP_ALLOW_PRIVATE_HOSTS = False

    with pytest.raises(ValidationError) as refused:
        _connect(tenant, port=993, host=host)

    assert "local or private network address" in str(refused.value.message_dict["host"])
    with tenant_context(tenant):
        assert not ImapMailbox.objects.exists()


def test_private_addresses_are_refused_when_polling(tenant, imap, settings):
    imap.add(_mail(1))
    _connect(tenant, port=imap.port)
    settings.IMAP_ALLOW_PRIVATE_HOSTS = False

    _poll(tenant)

    assert "127.0.0.1 is a local or private network address" in _mailbox(tenant).last_error
    assert imap.connections == 0 and _stored(tenant) == []


def test_beat_polls_each_workspace_into_its_own_inbox(tenant, other_tenant, imap):
    imap.accounts["globex@shop.example"] = "globex pass"
    imap.folders["Globex"] = imap.folders["INBOX"].__class__(uid_validity=7)
    imap.add(_mail(1, subject="For Acme"))
    imap.add(_mail(2, subject="For Globex"), folder="Globex")
    _connect(tenant, port=imap.port)
    _connect(
        other_tenant,
        port=imap.port,
        username="globex@shop.example",
        password="globex pass",
        folder="Globex",
    )

    # What beat sends every minute: the fan-out names the task to run in each workspace.
    tenants_fan_out_task.delay("chat.tasks.imap_mailboxes_poll_task")

    assert _ticket_subjects(tenant) == ["For Acme"]
    assert _ticket_subjects(other_tenant) == ["For Globex"]


def test_the_beat_schedule_polls_every_minute(settings):
    from helpdesk.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["imap-mailboxes-poll"]

    assert entry["task"] == "helpdesk.jobs.tenants_fan_out_task"
    assert entry["schedule"] == 60.0
    assert entry["args"][0] in app.tasks
