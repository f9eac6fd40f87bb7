import pytest
from django.core.mail import EmailMultiAlternatives
from django.test import override_settings

pytestmark = pytest.mark.django_db

OUTBOX = "helpdesk.devtools.outbox.OutboxEmailBackend"


@pytest.fixture
def outbox_on(tmp_path):
    with override_settings(DEBUG=True, EMAIL_BACKEND=OUTBOX, OUTBOX_DIR=str(tmp_path)):
        yield tmp_path


def _send(subject="Join Acme", body="Accept: http://acme.localhost:8000/invite/abc/", html=None):
    message = EmailMultiAlternatives(subject, body, "no-reply@localhost", ["ann@example.com"])
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


def test_outbox_lists_sent_mail_with_clickable_links(client, outbox_on):
    _send()

    response = client.get("/dev/outbox/", HTTP_HOST="localhost")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Join Acme" in page
    assert '<a href="http://acme.localhost:8000/invite/abc/"' in page


def test_outbox_empty_state(client, outbox_on):
    response = client.get("/dev/outbox/", HTTP_HOST="localhost")

    assert "No mail yet" in response.content.decode()


def test_html_mail_is_shown_sandboxed_and_escaped(client, outbox_on):
    _send(html='<img src=x onerror="alert(1)"><script>alert(2)</script>')

    page = client.get("/dev/outbox/", HTTP_HOST="localhost").content.decode()

    assert "<script>alert(2)</script>" not in page
    assert 'sandbox title="HTML version"' in page


def test_message_key_cannot_escape_the_outbox_directory(client, outbox_on):
    response = client.get("/dev/outbox/?m=../../etc/passwd", HTTP_HOST="localhost")

    assert response.status_code == 404


def test_clear_removes_messages(client, outbox_on):
    _send()

    client.post("/dev/outbox/clear/", HTTP_HOST="localhost")

    assert list(outbox_on.iterdir()) == []


def test_outbox_is_off_outside_development(client, tmp_path):
    with override_settings(DEBUG=False, EMAIL_BACKEND=OUTBOX, OUTBOX_DIR=str(tmp_path)):
        _send()
        response = client.get("/dev/outbox/", HTTP_HOST="localhost")

    assert response.status_code == 404
