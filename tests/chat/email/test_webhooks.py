"""Email providers' inbound webhooks, posted the way each provider documents its payload."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django_tenants.utils import tenant_context

from chat.email.smtp_receiver import InboundSmtpServer
from chat.models import EmailMessage
from helpdesk.tickets.models import Ticket
from tests.chat.email.mail import mail_bytes
from tests.daphne import free_port
from tests.factories import host_of

# anymail warns on every SendGrid request that SendGrid support is community-maintained.
pytestmark = pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")

BASIC_USER, BASIC_PASSWORD = "hooks", "correct-horse-battery"
MAILGUN_KEY = "mailgun-signing-key-0123456789"
TOPIC = "arn:aws:sns:us-east-1:123456789012:inbound-mail"
INBOUND = "acme@mail.localhost"


def basic_auth(user: str = BASIC_USER, password: str = BASIC_PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(autouse=True)
def webhook_secrets(settings):
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": [f"{BASIC_USER}:{BASIC_PASSWORD}"],
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
    }


def ticket_subjects(tenant) -> list[str]:
    with tenant_context(tenant):
        return list(Ticket.objects.order_by("number").values_list("subject", flat=True))


def stored_sources(tenant) -> list[str]:
    with tenant_context(tenant):
        return list(EmailMessage.objects.values_list("source", flat=True))


# --- Amazon SNS: a certificate of our own, served by a local stand-in for Amazon's endpoint ---


@dataclass
class FakeSns:
    port: int
    key: rsa.RSAPrivateKey
    requested: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def sign(self, message: dict[str, Any]) -> dict[str, Any]:
        """Sign the way SNS does (SignatureVersion 2: SHA256withRSA over name/value lines)."""
        names = (
            ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
            if message["Type"] == "Notification"
            else ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
        )
        text = "".join(f"{n}\n{message[n]}\n" for n in names if n in message)
        signature = self.key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
        return {**message, "Signature": base64.b64encode(signature).decode()}


@pytest.fixture
def fake_sns(settings) -> Iterator[FakeSns]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    requested: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            body = pem if self.path.startswith("/SimpleNotificationService") else b"<ok/>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    # Amazon's hosts only, in production; here the stand-in's address.
    settings.SNS_URL_RE = rf"^http://127\.0\.0\.1:{port}/"
    try:
        yield FakeSns(port=port, key=key, requested=requested)
    finally:
        server.shutdown()
        server.server_close()


def ses_notification(
    sns: FakeSns, raw: bytes, *, recipients: tuple[str, ...] = (INBOUND,)
) -> dict[str, Any]:
    """An SES receipt rule's SNS action (encoding BASE64), as SNS posts it."""
    ses_event = {
        "notificationType": "Received",
        "mail": {
            "timestamp": "2025-01-10T09:00:00.000Z",
            "source": "ana@example.com",
            "messageId": uuid.uuid4().hex,
            "destination": list(recipients),
            "headersTruncated": False,
            "headers": [],
            "commonHeaders": {"from": ["ana@example.com"], "to": list(recipients)},
        },
        "receipt": {
            "timestamp": "2025-01-10T09:00:00.000Z",
            "processingTimeMillis": 310,
            "recipients": list(recipients),
            "spamVerdict": {"status": "PASS"},
            "virusVerdict": {"status": "PASS"},
            "spfVerdict": {"status": "PASS"},
            "dkimVerdict": {"status": "PASS"},
            "dmarcVerdict": {"status": "PASS"},
            "action": {"type": "SNS", "topicArn": TOPIC, "encoding": "BASE64"},
        },
        "content": base64.b64encode(raw).decode(),
    }
    return sns.sign(
        {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": TOPIC,
            "Subject": "Amazon SES Email Receipt Notification",
            "Message": json.dumps(ses_event),
            "Timestamp": "2025-01-10T09:00:01.000Z",
            "SignatureVersion": "2",
            "SigningCertURL": sns.url("/SimpleNotificationService-0000.pem"),
            "UnsubscribeURL": sns.url("/?Action=Unsubscribe"),
        }
    )


def post_sns(client, message: dict[str, Any], **extra: Any):
    return client.post(
        "/webhooks/email/amazon_ses/inbound/",
        data=json.dumps(message),
        content_type="text/plain; charset=UTF-8",  # what SNS sends
        HTTP_HOST=settings.BASE_DOMAIN,
        HTTP_X_AMZ_SNS_MESSAGE_TYPE=message["Type"],
        HTTP_X_AMZ_SNS_MESSAGE_ID=message["MessageId"],
        HTTP_X_AMZ_SNS_TOPIC_ARN=message["TopicArn"],
        **extra,
    )


# --- The other providers' payloads ---


def mailgun_signature(timestamp: str, token: str, key: str = MAILGUN_KEY) -> str:
    return hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


def post_mailgun(client, raw: bytes, *, recipient: str = INBOUND, key: str = MAILGUN_KEY, **extra):
    """A route's forward() to a URL containing "mime": the raw message as body-mime."""
    timestamp, token = "1736499600", uuid.uuid4().hex + uuid.uuid4().hex[:18]
    return client.post(
        "/webhooks/email/mailgun/inbound_mime/",
        {
            "recipient": recipient,
            "sender": "ana@example.com",
            "from": "Ana Silva <ana@example.com>",
            "subject": "ignored: body-mime has it",
            "body-mime": raw.decode(),
            "timestamp": timestamp,
            "token": token,
            "signature": mailgun_signature(timestamp, token, key),
        },
        HTTP_HOST=settings.BASE_DOMAIN,
        **extra,
    )


def postmark_payload(raw: bytes, *, subject: str, message_id: str, with_raw: bool) -> dict:
    """Postmark's inbound JSON; RawEmail only with "Include raw email content" switched on."""
    payload: dict[str, Any] = {
        "FromName": "Ana Silva",
        "MessageStream": "inbound",
        "From": "ana@example.com",
        "FromFull": {"Email": "ana@example.com", "Name": "Ana Silva", "MailboxHash": ""},
        "To": INBOUND,
        "ToFull": [{"Email": INBOUND, "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": INBOUND,
        "Subject": subject,
        "MessageID": str(uuid.uuid4()),
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Fri, 10 Jan 2025 09:00:00 +0000",
        "TextBody": "Hello, my order #4411 has not arrived yet.",
        "HtmlBody": "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": "<ana@example.com>"},
            {"Name": "Message-ID", "Value": f"<{message_id}>"},
            {"Name": "MIME-Version", "Value": "1.0"},
        ],
        "Attachments": [],
    }
    if with_raw:
        payload["RawEmail"] = raw.decode()
    return payload


def post_postmark(client, payload: dict, **extra):
    return client.post(
        "/webhooks/email/postmark/inbound/",
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_HOST=settings.BASE_DOMAIN,
        **extra,
    )


def post_sendgrid(client, raw: bytes, *, recipients: tuple[str, ...] = (INBOUND,), **extra):
    """Inbound Parse with "POST the raw, full MIME message" checked."""
    return client.post(
        "/webhooks/email/sendgrid/inbound/",
        {
            "email": raw.decode(),
            "to": ", ".join(recipients),
            "from": "Ana Silva <ana@example.com>",
            "subject": "ignored: email has it",
            "envelope": json.dumps({"to": list(recipients), "from": "ana@example.com"}),
            "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
            "SPF": "pass",
            "dkim": "{@example.com : pass}",
            "sender_ip": "192.0.2.10",
        },
        HTTP_HOST=settings.BASE_DOMAIN,
        **extra,
    )


Poster = Callable[..., Any]


def providers(fake_sns: FakeSns | None = None) -> dict[str, Poster]:
    """Each provider's documented, correctly authenticated post of `raw` (subject/id inside)."""

    def postmark(client, raw, **extra):
        parsed = mail_from(raw)
        payload = postmark_payload(
            raw, subject=parsed["subject"], message_id=parsed["mid"], with_raw=True
        )
        return post_postmark(client, payload, HTTP_AUTHORIZATION=basic_auth(), **extra)

    def ses(client, raw, **extra):
        assert fake_sns is not None
        return post_sns(
            client, ses_notification(fake_sns, raw), HTTP_AUTHORIZATION=basic_auth(), **extra
        )

    return {
        "mailgun": lambda client, raw, **extra: post_mailgun(
            client, raw, HTTP_AUTHORIZATION=basic_auth(), **extra
        ),
        "postmark": postmark,
        "sendgrid": lambda client, raw, **extra: post_sendgrid(
            client, raw, HTTP_AUTHORIZATION=basic_auth(), **extra
        ),
        "ses": ses,
    }


def mail_from(raw: bytes) -> dict[str, str]:
    message = message_from_bytes(raw)
    return {"subject": str(message["Subject"]), "mid": str(message["Message-ID"]).strip("<>")}


PROVIDERS = ["mailgun", "postmark", "sendgrid", "ses"]


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PROVIDERS)
def test_signed_post_becomes_a_ticket_in_the_addressed_workspace_only(
    client, tenant, other_tenant, fake_sns, provider
):
    raw = mail_bytes(to=INBOUND, subject=f"Parcel missing ({provider})")

    response = providers(fake_sns)[provider](client, raw)

    assert response.status_code == 200, response.content
    assert ticket_subjects(tenant) == [f"Parcel missing ({provider})"]
    assert stored_sources(tenant) == [f"webhook:{provider}"]
    assert ticket_subjects(other_tenant) == []


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["sendgrid", "ses"])
def test_one_mail_to_two_workspaces_reaches_both(client, tenant, other_tenant, fake_sns, provider):
    both = (INBOUND, "globex@mail.localhost")
    raw = mail_bytes(to=", ".join(both), subject="To both shops")
    if provider == "sendgrid":
        response = post_sendgrid(client, raw, recipients=both, HTTP_AUTHORIZATION=basic_auth())
    else:
        message = ses_notification(fake_sns, raw, recipients=both)
        response = post_sns(client, message, HTTP_AUTHORIZATION=basic_auth())

    assert response.status_code == 200
    assert ticket_subjects(tenant) == ["To both shops"]
    assert ticket_subjects(other_tenant) == ["To both shops"]


@pytest.mark.django_db
def test_postmark_without_raw_email_is_rebuilt_from_its_fields(client, tenant):
    payload = postmark_payload(
        b"", subject="No raw here", message_id="pm-1@example.com", with_raw=False
    )

    response = post_postmark(client, payload, HTTP_AUTHORIZATION=basic_auth())

    assert response.status_code == 200
    assert ticket_subjects(tenant) == ["No raw here"]
    with tenant_context(tenant):
        assert "pm-1@example.com" in EmailMessage.objects.get().message_id_header


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_same_mail_posted_twice_is_stored_once(client, tenant, fake_sns, provider):
    raw = mail_bytes(to=INBOUND, subject="Posted twice", message_id=f"twice-{provider}@example.com")
    post = providers(fake_sns)[provider]

    assert post(client, raw).status_code == 200
    assert post(client, raw).status_code == 200  # the provider's retry

    assert ticket_subjects(tenant) == ["Posted twice"]
    assert len(stored_sources(tenant)) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("provider", "extra", "status"),
    [
        ("postmark", {}, 400),
        ("postmark", {"HTTP_AUTHORIZATION": basic_auth(password="guess")}, 400),
        ("sendgrid", {}, 400),
        ("sendgrid", {"HTTP_AUTHORIZATION": basic_auth(password="guess")}, 400),
        ("ses", {}, 401),  # SNS only sends credentials after a 401 challenge
        ("ses", {"HTTP_AUTHORIZATION": basic_auth(password="guess")}, 400),
    ],
)
def test_missing_or_wrong_basic_auth_is_refused_and_nothing_stored(
    client, tenant, fake_sns, provider, extra, status
):
    raw = mail_bytes(to=INBOUND, subject="Forged")
    if provider == "postmark":
        payload = postmark_payload(raw, subject="Forged", message_id="f@x", with_raw=True)
        response = post_postmark(client, payload, **extra)
    elif provider == "sendgrid":
        response = post_sendgrid(client, raw, **extra)
    else:
        response = post_sns(client, ses_notification(fake_sns, raw), **extra)

    assert response.status_code == status
    assert ticket_subjects(tenant) == []
    assert stored_sources(tenant) == []


@pytest.mark.django_db
def test_mailgun_with_a_wrong_signature_is_refused_and_nothing_stored(client, tenant):
    raw = mail_bytes(to=INBOUND, subject="Forged")

    response = post_mailgun(client, raw, key="not-the-signing-key", HTTP_AUTHORIZATION=basic_auth())

    assert response.status_code == 400
    assert ticket_subjects(tenant) == []


@pytest.mark.django_db
def test_mailgun_needs_only_its_signature_when_no_basic_auth_is_set(client, tenant, settings):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    raw = mail_bytes(to=INBOUND, subject="Signature only")

    assert post_mailgun(client, raw, key="not-the-signing-key").status_code == 400
    assert post_mailgun(client, raw).status_code == 200
    assert ticket_subjects(tenant) == ["Signature only"]


@pytest.mark.django_db
def test_mailgun_with_basic_auth_set_needs_both_signature_and_auth(client, tenant):
    raw = mail_bytes(to=INBOUND, subject="Signed but no auth")

    assert post_mailgun(client, raw).status_code == 400  # WEBHOOK_SECRET is set: auth required
    assert post_mailgun(client, raw, HTTP_AUTHORIZATION=basic_auth()).status_code == 200
    assert ticket_subjects(tenant) == ["Signed but no auth"]


@pytest.mark.django_db
def test_ses_with_a_wrong_signature_is_refused_and_nothing_stored(client, tenant, fake_sns):
    message = ses_notification(fake_sns, mail_bytes(to=INBOUND, subject="Forged"))
    message["Message"] = message["Message"].replace("PASS", "FAIL")  # altered after signing

    response = post_sns(client, message, HTTP_AUTHORIZATION=basic_auth())

    assert response.status_code == 400
    assert ticket_subjects(tenant) == []


@pytest.mark.django_db
def test_ses_certificate_from_anywhere_but_amazon_is_never_fetched(client, tenant, fake_sns):
    message = ses_notification(fake_sns, mail_bytes(to=INBOUND, subject="Forged"))
    message["SigningCertURL"] = "http://169.254.169.254/latest/meta-data/"
    fake_sns.requested.clear()

    response = post_sns(client, message, HTTP_AUTHORIZATION=basic_auth())

    assert response.status_code == 400
    assert fake_sns.requested == []
    assert ticket_subjects(tenant) == []


@pytest.mark.django_db
def test_ses_from_a_topic_not_allowed_is_refused(client, tenant, fake_sns, settings):
    settings.AMAZON_SES_INBOUND_TOPIC_ARNS = ["arn:aws:sns:us-east-1:123456789012:other"]
    message = ses_notification(fake_sns, mail_bytes(to=INBOUND, subject="Other topic"))

    response = post_sns(client, message, HTTP_AUTHORIZATION=basic_auth())

    assert response.status_code == 400
    assert ticket_subjects(tenant) == []


@pytest.mark.django_db
def test_ses_subscription_is_confirmed_once_signed_and_authenticated(client, tenant, fake_sns):
    confirmation = fake_sns.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": str(uuid.uuid4()),
            "Token": "token-123",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": fake_sns.url("/?Action=ConfirmSubscription&Token=token-123"),
            "Timestamp": "2025-01-10T09:00:00.000Z",
            "SignatureVersion": "2",
            "SigningCertURL": fake_sns.url("/SimpleNotificationService-0000.pem"),
        }
    )
    forged = {**confirmation, "Token": "token-456"}

    assert post_sns(client, forged, HTTP_AUTHORIZATION=basic_auth()).status_code == 400
    assert "/?Action=ConfirmSubscription&Token=token-123" not in fake_sns.requested
    assert post_sns(client, confirmation, HTTP_AUTHORIZATION=basic_auth()).status_code == 200
    assert "/?Action=ConfirmSubscription&Token=token-123" in fake_sns.requested
    assert stored_sources(tenant) == []


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_webhook_without_its_secret_configured_refuses_everything(
    client, tenant, fake_sns, settings, provider
):
    settings.ANYMAIL = {}
    raw = mail_bytes(to=INBOUND, subject="Unconfigured")

    response = providers(fake_sns)[provider](client, raw)

    assert response.status_code == 403
    assert ticket_subjects(tenant) == []
    assert stored_sources(tenant) == []


@pytest.mark.django_db
def test_mail_to_an_unknown_workspace_is_acknowledged_and_stored_nowhere(client, tenant):
    raw = mail_bytes(to="nosuchshop@mail.localhost", subject="Nobody home")

    response = post_mailgun(
        client, raw, recipient="nosuchshop@mail.localhost", HTTP_AUTHORIZATION=basic_auth()
    )

    assert response.status_code == 200  # a retry could not make the workspace exist
    assert ticket_subjects(tenant) == []


@pytest.mark.django_db
def test_webhooks_are_not_served_on_a_workspace_host(client, tenant):
    payload = postmark_payload(b"", subject="Wrong host", message_id="w@x", with_raw=False)

    response = client.post(
        "/webhooks/email/postmark/inbound/",
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_HOST=host_of(tenant),
        HTTP_AUTHORIZATION=basic_auth(),
    )

    assert response.status_code == 404
    assert ticket_subjects(tenant) == []


def test_the_same_mail_by_smtp_and_by_webhook_is_stored_once(
    transactional_db, client, tenant, settings
):
    raw = mail_bytes(to=INBOUND, subject="Two doors", message_id="two-doors@example.com")
    receiver = InboundSmtpServer(host="127.0.0.1", port=free_port())
    receiver.start()
    try:
        with smtplib.SMTP(receiver.host, receiver.port, timeout=30) as smtp:
            smtp.sendmail("ana@example.com", [INBOUND], raw.replace(b"\n", b"\r\n"))
    finally:
        receiver.stop()
    payload = postmark_payload(
        raw, subject="Two doors", message_id="two-doors@example.com", with_raw=True
    )

    response = post_postmark(client, payload, HTTP_AUTHORIZATION=basic_auth())

    assert response.status_code == 200
    assert ticket_subjects(tenant) == ["Two doors"]
    assert stored_sources(tenant) == ["smtp"]
