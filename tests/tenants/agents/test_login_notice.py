"""The workspace sign-in page greets a merchant who has just signed up."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.factories import OWNER_PASSWORD
from tests.tenants.agents.clients import client_for, sign_in

pytestmark = pytest.mark.django_db

NOTICE = "Your workspace is ready — sign in with the email and password you just chose."


def _signup(**overrides) -> str:
    data = {
        "company_name": "Acme Outdoor",
        "slug": "acme-outdoor",
        "owner_name": "Maya Lindqvist",
        "email": "maya@acme-outdoor.example",
        "password": OWNER_PASSWORD,
        "timezone": "Europe/Stockholm",
        "language": "en",
        "website": "",
    }
    data.update(overrides)
    response = Client().post(
        "/signup/", data, HTTP_HOST="localhost:8000", REMOTE_ADDR="198.51.100.77"
    )
    assert response.status_code == 303
    return response["Location"]


def test_signup_lands_on_a_login_page_that_says_the_workspace_is_ready():
    location = urlsplit(_signup())

    page = Client(HTTP_HOST=location.netloc).get(f"{location.path}?{location.query}")

    assert page.status_code == 200
    assert NOTICE in page.content.decode()
    assert 'role="status"' in page.content.decode()


def test_an_ordinary_visit_to_the_login_page_has_no_notice(tenant):
    page = client_for(tenant).get("/accounts/login/")

    assert page.status_code == 200
    assert NOTICE not in page.content.decode()


def test_only_created_1_shows_the_notice(tenant):
    page = client_for(tenant).get("/accounts/login/?created=yes")

    assert NOTICE not in page.content.decode()


def test_a_failed_sign_in_replaces_the_notice_with_the_error(tenant):
    client = client_for(tenant)
    assert NOTICE in client.get("/accounts/login/?created=1").content.decode()

    response = client.post(
        "/accounts/login/?created=1", {"login": "owner@acme.example", "password": "wrong-one-42"}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert NOTICE not in body
    assert "alert-danger" in body


def test_the_notice_does_not_get_in_the_way_of_signing_in(tenant):
    client = client_for(tenant)
    client.get("/accounts/login/?created=1")

    response = sign_in(client, "owner@acme.example")

    assert response.status_code == 302
