"""Optional TOTP two-factor sign-in with recovery codes (allauth.mfa), per workspace."""

from __future__ import annotations

import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from tests.factories import OWNER_PASSWORD
from tests.tenants.agents.clients import client_for, in_schema, sign_in

pytestmark = pytest.mark.django_db

OWNER = "owner@acme.example"


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _verify_owner_email(tenant) -> None:
    in_schema(tenant, lambda: EmailAddress.objects.filter(email=OWNER).update(verified=True))


def _activate(tenant) -> str:
    """Turn on TOTP for the owner through the pages; returns the secret."""
    _verify_owner_email(tenant)
    client = client_for(tenant)
    sign_in(client, OWNER)
    # Turning on two-factor asks for the password again, even right after signing in.
    gate = client.get("/accounts/2fa/totp/activate/")
    assert gate.status_code == 302 and gate["Location"].startswith("/accounts/reauthenticate/")
    assert b"Confirm" in client.get(gate["Location"]).content
    client.post(gate["Location"], {"password": OWNER_PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    assert b'class="qr-code"' in page.content and b'class="sidebar"' in page.content
    secret = re.search(rb'id="authenticator_secret" value="([A-Z2-7=]+)"', page.content)[1]
    secret = secret.decode()
    response = client.post("/accounts/2fa/totp/activate/", {"code": _code(secret)})
    assert response.status_code == 302
    codes_page = client.get(response["Location"])
    assert codes_page.status_code == 200 and b"10 of 10 codes left" in codes_page.content
    assert b"On</span>" in client.get("/").content
    return secret


def test_activated_totp_is_required_at_sign_in(tenant):
    secret = _activate(tenant)
    client = client_for(tenant)

    first_step = sign_in(client, OWNER)

    assert first_step.status_code == 302
    assert first_step["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/").status_code == 302  # not signed in until the code is given
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and b"Incorrect code" in wrong.content
    right = client.post("/accounts/2fa/authenticate/", {"code": _code(secret)})
    assert right.status_code == 302
    assert client.get("/").status_code == 200


def test_recovery_code_signs_in_once(tenant):
    _activate(tenant)
    codes = in_schema(
        tenant,
        lambda: RecoveryCodes(
            Authenticator.objects.get(type=Authenticator.Type.RECOVERY_CODES)
        ).get_unused_codes(),
    )
    assert len(codes) >= 8

    client = client_for(tenant)
    sign_in(client, OWNER)
    client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert client.get("/").status_code == 200

    again = client_for(tenant)
    sign_in(again, OWNER)
    reused = again.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert reused.status_code == 200 and b"Incorrect code" in reused.content
    assert again.get("/").status_code == 302


def test_two_factor_of_one_workspace_does_not_apply_to_the_same_email_elsewhere(
    make_tenant,
):
    a = make_tenant(slug="acme", company_name="Acme", owner_email=OWNER)
    b = make_tenant(slug="globex", company_name="Globex", owner_email=OWNER)
    _activate(a)

    client = client_for(b)
    response = sign_in(client, OWNER, OWNER_PASSWORD)

    assert response["Location"] == "/"
    assert in_schema(b, lambda: Authenticator.objects.count()) == 0


def test_unverified_email_must_be_verified_before_activating(tenant):
    client = client_for(tenant)
    sign_in(client, OWNER)

    page = client.get("/accounts/2fa/")
    attempt = client.get("/accounts/2fa/totp/activate/")

    assert b"Verify your email address" in page.content
    assert attempt.status_code == 302 and attempt["Location"] == "/accounts/2fa/"
    assert in_schema(tenant, lambda: Authenticator.objects.count()) == 0


def test_two_factor_pages_render_in_the_agent_shell(tenant):
    client = client_for(tenant)
    sign_in(client, OWNER)

    page = client.get("/accounts/2fa/")

    assert page.status_code == 200
    assert b'class="account-tabs"' in page.content
    assert b'aria-current="page">Two-factor' in page.content
    assert b"Set up authenticator app" in page.content
