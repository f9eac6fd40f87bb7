"""Settings → Email: inbound address and forwarding, support address, the acknowledgement
auto-reply templates, and the IMAP mailbox form with its connection test. Admins only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from chat.email.ack_templates import BUILT_IN
from chat.email.ingest import email_ingest
from chat.models import EmailSettings, ImapMailbox
from chat.selectors.email_settings import email_settings_get
from chat.services.email_settings import email_ack_render
from tenants.connection import connection
from tenants.workspace.models import WorkspaceSettings
from tests.chat.email.fake_imap import FakeImapServer
from tests.chat.email.mail import mail_bytes
from tests.factories import AgentFactory
from tests.tenants.agents.clients import client_for, in_schema, owner_of, signed_in

pytestmark = pytest.mark.django_db

URL = "/settings/email/"
IMAP_URL = "/settings/email/imap/"
PASSWORD = "Tr0ub4dor&3 horse"
USER = "support@shop.example"


def _form(**overrides) -> dict:
    data = {"support_address": "", "support_name": "", "ack_enabled": ""}
    for name, value in overrides.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def _imap_form(**overrides) -> dict:
    data = {
        "host": "127.0.0.1",
        "port": "993",
        "use_ssl": "",
        "username": USER,
        "password": PASSWORD,
        "folder": "INBOX",
        "enabled": "on",
    }
    data.update({k: v for k, v in overrides.items() if v is not None})
    return data


def _row(tenant) -> EmailSettings:
    return in_schema(tenant, email_settings_get)


def _snapshot(tenant) -> dict:
    row = _row(tenant)
    return {f.name: getattr(row, f.name) for f in EmailSettings._meta.fields}


def _mailboxes(tenant) -> list[ImapMailbox]:
    return in_schema(tenant, lambda: list(ImapMailbox.objects.all()))


@pytest.fixture
def imap(settings):
    settings.IMAP_ALLOW_PRIVATE_HOSTS = True
    server = FakeImapServer(username=USER, password=PASSWORD).start()
    yield server
    server.stop()


# ---- The page ----


def test_admin_sees_the_inbound_address_and_waiting_state(tenant):
    client = signed_in(tenant, owner_of(tenant))

    page = client.get(URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert "<code>acme@mail.localhost</code>" in html
    assert 'data-copy-target="inbound-address"' in html
    assert "Waiting for the first forwarded email…" in html
    assert "Gmail or Google Workspace" in html and "Outlook or Microsoft 365" in html
    assert "No mailbox connected." in html
    assert 'aria-current="page">Email</a>' in html  # the Settings tab
    assert re.search(r'href="/settings/" class="nav-item is-current"', html)  # the sidebar
    assert "no-store" in page["Cache-Control"]


def test_the_page_shows_when_forwarded_mail_arrived(tenant):
    def detected():
        row = email_settings_get()
        row.forwarding_detected_at = timezone.now()
        row.forwarding_detected_from = "support@shop.com"
        row.save()

    in_schema(tenant, detected)

    page = signed_in(tenant, owner_of(tenant)).get(URL)

    assert b"Forwarded mail detected from <strong" in page.content
    assert b"support@shop.com</strong>" in page.content
    assert b"Waiting for the first forwarded email" not in page.content


def test_the_page_keeps_to_a_few_queries(tenant, django_assert_max_num_queries):
    client = signed_in(tenant, owner_of(tenant))
    client.get(URL)  # rows created on first view

    with django_assert_max_num_queries(12):
        assert client.get(URL).status_code == 200


# ---- Support address and auto-reply ----


def test_admin_saves_the_support_address_and_auto_reply(tenant):
    client = signed_in(tenant, owner_of(tenant))

    response = client.post(
        URL,
        _form(
            support_address="Support@Shop.COM",
            support_name="  Acme   Support ",
            ack_enabled="on",
            **{
                "ack_de_subject": "Danke! [#{ticket_number}]",
                "ack_de_body": "Hallo {customer_name},\r\nwir melden uns zu „{subject}“.",
                "ack_en_subject": "",
                "ack_en_body": "",
            },
        ),
    )

    assert response.status_code == 302
    row = _row(tenant)
    assert row.support_address == "Support@shop.com"
    assert row.support_name == "Acme Support"
    assert row.ack_enabled is True
    assert row.ack_templates == {
        "de": {
            "subject": "Danke! [#{ticket_number}]",
            "body": "Hallo {customer_name},\nwir melden uns zu „{subject}“.",
        }
    }
    page = client.get(URL)
    assert b'value="Support@shop.com"' in page.content
    assert b"Danke! [#{ticket_number}]" in page.content


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"support_address": "a@shop.com\r\nBcc: all@victim.example"}, "without line breaks"),
        ({"support_address": "not an address"}, "is not a valid email address"),
        ({"support_address": "acme@mail.localhost"}, "That is an address of ours."),
        ({"support_name": "Acme\r\nBcc: x@y.example"}, "on one line"),
        ({"ack_en_subject": "{__class__}", "ack_en_body": "Hi"}, "{__class__} in the subject"),
        ({"ack_en_subject": "Hi", "ack_en_body": "Ticket {0}"}, "{0} in the message"),
        ({"ack_en_subject": "Hi {ticket_number.__class__}", "ack_en_body": "x"}, "placeholder"),
        ({"ack_en_subject": "Line one\nline two", "ack_en_body": "x"}, "one line"),
        ({"ack_en_subject": "x" * 201, "ack_en_body": "x"}, "200 characters"),
        ({"ack_en_subject": "x", "ack_en_body": "y" * 5001}, "5,000 characters"),
        ({"ack_en_subject": "Only a subject", "ack_en_body": ""}, "fill in both"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_saved(tenant, fields, shown):
    client = signed_in(tenant, owner_of(tenant))
    before = _snapshot(tenant)

    response = client.post(URL, _form(**{"support_address": "ok@shop.com", **fields}))

    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved." in html
    assert shown.replace("'", "&#x27;") in html or shown in html.replace("&#x27;", "'")
    assert _snapshot(tenant) == before


def test_a_language_with_an_error_is_the_one_shown_first(tenant):
    client = signed_in(tenant, owner_of(tenant))

    response = client.post(URL, _form(ack_ja_subject="{oops}", ack_ja_body="x"))

    assert re.search(r'<option value="ja" selected>[^<]*needs a fix', response.content.decode())


def test_script_in_a_template_is_kept_as_text_and_shown_escaped(tenant):
    client = signed_in(tenant, owner_of(tenant))
    hostile = "<script>alert(1)</script> <img src=x onerror=alert(1)>"

    client.post(URL, _form(ack_en_subject="Hi [#{ticket_number}]", ack_en_body=hostile))
    page = client.get(URL)

    assert b"<script>alert(1)" not in page.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.content
    assert _row(tenant).ack_templates["en"]["body"] == hostile  # plain text mail: inert


def test_an_agent_gets_403_and_nothing_changes(tenant, imap):
    agent = AgentFactory(tenant=tenant)
    owner_client = signed_in(tenant, owner_of(tenant))
    owner_client.post(IMAP_URL, _imap_form(port=str(imap.port)))
    before = _snapshot(tenant)
    client = signed_in(tenant, agent)

    assert client.get(URL).status_code == 403
    assert client.post(URL, _form(support_address="evil@attacker.example")).status_code == 403
    assert client.post(IMAP_URL, _imap_form(host="8.8.8.8")).status_code == 403
    assert client.post(IMAP_URL + "test/").status_code == 403
    assert client.post(IMAP_URL + "remove/").status_code == 403

    assert _snapshot(tenant) == before
    [mailbox] = _mailboxes(tenant)
    assert mailbox.host == "127.0.0.1"
    assert imap.logins == []  # the refused test never connected
    page = client.get("/settings/canned-responses/")
    assert page.status_code == 200 and b'href="/settings/email/"' not in page.content


def test_each_workspace_sees_only_its_own_address_and_mailbox(tenant, other_tenant, imap):
    signed_in(tenant, owner_of(tenant)).post(IMAP_URL, _imap_form(port=str(imap.port)))
    b_client = signed_in(other_tenant, owner_of(other_tenant))

    page = b_client.get(URL)

    assert b"globex@mail.localhost" in page.content
    assert b"acme@mail.localhost" not in page.content
    assert USER.encode() not in page.content and b"No mailbox connected." in page.content

    # B removing "the" mailbox touches B's schema only.
    b_client.post(IMAP_URL + "remove/")
    assert len(_mailboxes(tenant)) == 1


def test_a_session_from_another_workspace_is_not_signed_in_here(tenant, other_tenant):
    a_client = signed_in(tenant, owner_of(tenant))
    stolen = client_for(other_tenant)
    stolen.cookies = a_client.cookies

    response = stolen.post(URL, _form(support_address="evil@attacker.example"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert _row(other_tenant).support_address == ""


# ---- The IMAP mailbox form ----


def test_admin_connects_a_mailbox_and_the_password_is_never_shown(tenant, imap):
    client = signed_in(tenant, owner_of(tenant))

    response = client.post(IMAP_URL, _imap_form(port=str(imap.port)))

    assert response.status_code == 302
    [mailbox] = _mailboxes(tenant)
    assert (mailbox.host, mailbox.port, mailbox.username) == ("127.0.0.1", imap.port, USER)
    assert PASSWORD not in mailbox.password_encrypted
    page = client.get(URL)
    html = page.content.decode()
    assert PASSWORD not in html and mailbox.password_encrypted not in html
    assert re.search(r'<input type="password" name="password"(?![^>]*value=)[^>]*>', html)
    assert "Leave blank to keep the saved password." in html
    assert "Not checked yet" in html


def test_a_blank_password_keeps_the_saved_one(tenant, imap):
    client = signed_in(tenant, owner_of(tenant))
    client.post(IMAP_URL, _imap_form(port=str(imap.port)))

    client.post(IMAP_URL, _imap_form(port=str(imap.port), password="", folder="INBOX"))
    result = client.post(IMAP_URL + "test/")

    assert b"Connection works." in result.content
    assert imap.logins == [USER]


def test_another_user_name_needs_its_password(tenant, imap):
    client = signed_in(tenant, owner_of(tenant))
    client.post(IMAP_URL, _imap_form(port=str(imap.port)))
    [before] = _mailboxes(tenant)

    response = client.post(
        IMAP_URL, _imap_form(port=str(imap.port), username="b@x.example", password="")
    )

    assert response.status_code == 400
    assert b"Enter the password for the new server or user name." in response.content
    [after] = _mailboxes(tenant)
    assert (after.pk, after.username, after.password_encrypted) == (
        before.pk,
        USER,
        before.password_encrypted,
    )


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"host": ""}, "Enter the IMAP server"),
        ({"host": "imaps://imap.example.com"}, "Enter only the server"),
        ({"host": "imap.example.com:993"}, "the port in the Port field"),
        ({"host": "bad host!"}, "is not a valid server name"),
        ({"port": "70000"}, "less than or equal to 65535"),
        ({"username": ""}, "Enter the user name"),
        ({"password": ""}, "Enter the mailbox"),
        ({"password": "line\r\nA2 LOGOUT"}, "line breaks"),
        ({"folder": "Inbox\r\nA1 DELETE INBOX"}, "folder"),
    ],
)
def test_bad_mailbox_settings_are_refused_and_nothing_saved(tenant, fields, shown, settings):
    settings.IMAP_ALLOW_PRIVATE_HOSTS = True
    client = signed_in(tenant, owner_of(tenant))

    response = client.post(IMAP_URL, _imap_form(**fields))

    assert response.status_code == 400
    assert "Nothing was saved." in response.content.decode()
    assert shown in response.content.decode().replace("&#x27;", "'")
    assert _mailboxes(tenant) == []


def test_a_private_server_is_refused_on_the_page(tenant, settings):
    settings.IMAP_ALLOW_PRIVATE_HOSTS = False
    client = signed_in(tenant, owner_of(tenant))

    response = client.post(IMAP_URL, _imap_form(host="169.254.169.254"))

    assert response.status_code == 400
    assert b"169.254.169.254 is a local or private network address" in response.content
    assert _mailboxes(tenant) == []


def test_the_connection_test_shows_what_the_server_said(tenant, imap):
    client = signed_in(tenant, owner_of(tenant))
    imap.add(b"Subject: hi\r\n\r\nhello\r\n")
    client.post(IMAP_URL, _imap_form(port=str(imap.port)))

    works = client.post(IMAP_URL + "test/")

    assert works.status_code == 200
    shown = works.content.decode()
    assert "Connection works.</strong> Connected to 127.0.0.1, signed in and opened" in shown
    assert "“INBOX” (1 message)." in shown
    assert imap.fetched == []  # a test reads nothing

    client.post(IMAP_URL, _imap_form(port=str(imap.port), password="wrong password"))
    fails = client.post(IMAP_URL + "test/")

    assert b"Connection test failed.</strong> Login failed: AUTHENTICATIONFAILED" in fails.content
    [mailbox] = _mailboxes(tenant)
    assert mailbox.last_error == ""  # the test leaves the poll status alone


def test_removing_the_mailbox_asks_first(tenant, imap):
    client = signed_in(tenant, owner_of(tenant))
    client.post(IMAP_URL, _imap_form(port=str(imap.port)))

    confirm = client.get(IMAP_URL + "remove/")

    assert b"Remove the mailbox" in confirm.content and len(_mailboxes(tenant)) == 1

    removed = client.post(IMAP_URL + "remove/")

    assert removed.status_code == 302 and _mailboxes(tenant) == []
    assert b"No mailbox connected." in client.get(URL).content


# ---- Rendering the auto-reply ----


def _render(tenant, **kw):
    values: dict[str, Any] = {
        "language": "en",
        "ticket_number": 1001,
        "subject": "Where is my order?",
        "customer_name": "Ana",
    }
    values.update(kw)
    return in_schema(tenant, lambda: email_ack_render(**values))


def _store_templates(tenant, templates: dict) -> None:
    """Written straight to the row, as if validation had been bypassed."""

    def store():
        row = email_settings_get()
        row.ack_templates = templates
        row.save()

    in_schema(tenant, store)


def test_built_in_wording_for_every_language(tenant):
    for code in BUILT_IN:
        subject, body = _render(tenant, language=code)
        assert subject == "Re: Where is my order? [#1001]"
        assert "#1001" in body and "{" not in body


def test_the_english_default_says_the_ticket_number(tenant):
    _subject, body = _render(tenant)

    assert "We received your message — ticket #1001" in body


def test_the_template_follows_the_customers_language_then_the_workspace_default(tenant):
    _store_templates(
        tenant,
        {
            "de": {"subject": "Danke [#{ticket_number}]", "body": "Hallo {customer_name}"},
            "fr": {"subject": "Merci [#{ticket_number}]", "body": "Bonjour {customer_name}"},
        },
    )

    assert _render(tenant, language="de-AT") == ("Danke [#1001]", "Hallo Ana")
    # No template of theirs for Japanese, and English is the workspace's default: built-in.
    assert _render(tenant, language="ja")[0] == "Re: Where is my order? [#1001]"
    assert "チケット番号 #1001" in _render(tenant, language="ja")[1]

    in_schema(tenant, lambda: WorkspaceSettings.objects.filter(pk=1).update(default_language="fr"))

    assert _render(tenant, language="ja") == ("Merci [#1001]", "Bonjour Ana")
    assert _render(tenant, language="")[0] == "Merci [#1001]"


def test_a_hostile_template_renders_inert(tenant):
    _store_templates(
        tenant,
        {
            "en": {
                "subject": "{__class__} {0} {subject.__class__.__mro__}\r\nBcc: x@evil.example",
                "body": "{__class__} {0} {ticket_number} <script>alert(1)</script>",
            }
        },
    )

    subject, body = _render(tenant, subject="Hi", customer_name="{ticket_number}")

    assert subject == "{__class__} {0} {subject.__class__.__mro__} Bcc: x@evil.example"
    assert "\n" not in subject and "\r" not in subject
    assert body == "{__class__} {0} 1001 <script>alert(1)</script>"


def test_customer_values_are_not_expanded_and_stay_on_one_line(tenant):
    _store_templates(
        tenant,
        {
            "en": {
                "subject": "[#{ticket_number}] {subject}",
                "body": "Dear {customer_name}: {subject}",
            }
        },
    )

    subject, body = _render(
        tenant, subject="Help\r\nBcc: all@victim.example {customer_name}", customer_name="{subject}"
    )

    assert subject == "[#1001] Help Bcc: all@victim.example {customer_name}"
    assert body == "Dear {subject}: Help Bcc: all@victim.example {customer_name}"


def test_rendering_in_one_workspace_uses_its_own_templates(tenant, other_tenant):
    _store_templates(tenant, {"en": {"subject": "Acme got it", "body": "Acme #{ticket_number}"}})

    assert _render(other_tenant)[0] == "Re: Where is my order? [#1001]"
    assert _render(tenant)[0] == "Acme got it"
    connection.set_schema_to_public()
    with tenant_context(other_tenant):
        assert email_settings_get().ack_templates == {}


def test_a_new_email_gets_the_workspaces_own_auto_reply(
    tenant, isolated_media, mailoutbox, django_capture_on_commit_callbacks
):
    client = signed_in(tenant, owner_of(tenant))
    client.post(
        URL,
        _form(
            ack_enabled="on",
            ack_en_subject="We got it [#{ticket_number}]",
            ack_en_body="Hi {customer_name}, your ticket is #{ticket_number}.",
        ),
    )

    # The reply is queued after commit, as in production.
    with tenant_context(tenant), django_capture_on_commit_callbacks(execute=True):
        email_ingest(mail_bytes(message_id="ack-1@example.com"), source="smtp")
    connection.set_schema_to_public()

    [ack] = [m for m in mailoutbox if "ana@example.com" in m.to]
    assert ack.subject == "We got it [#1001]"
    assert "Hi Ana Silva, your ticket is #1001." in ack.body
