"""The sample store page that embeds a workspace's widget (development only)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_sample_store_embeds_the_demo_workspaces_widget(settings):
    settings.DEBUG = True

    page = Client(HTTP_HOST="localhost:8000").get("/dev/store/")

    assert page.status_code == 200
    assert b'<script src="http://demo.localhost:8000/widget.js" async></script>' in page.content


def test_another_workspace_can_be_chosen_but_only_by_slug(settings):
    settings.DEBUG = True
    client = Client(HTTP_HOST="localhost:8000")

    acme = client.get("/dev/store/?workspace=acme")
    hostile = client.get('/dev/store/?workspace="><script>alert(1)</script>')

    assert b"http://acme.localhost:8000/widget.js" in acme.content
    assert hostile.status_code == 404


def test_there_is_no_sample_store_outside_development(settings):
    settings.DEBUG = False

    assert Client(HTTP_HOST="localhost:8000").get("/dev/store/").status_code == 404
