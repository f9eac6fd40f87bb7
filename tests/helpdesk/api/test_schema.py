"""The OpenAPI schema and the Swagger UI docs, served offline from the workspace host."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from tests.factories import host_of

pytestmark = pytest.mark.django_db


def test_the_schema_describes_the_endpoints_the_token_and_the_errors(client, tenant):
    response = client.get("/api/schema/?format=json", HTTP_HOST=host_of(tenant))

    assert response.status_code == 200
    schema = response.json()
    assert {"/api/v1/me/", "/api/v1/agents/", "/api/v1/agents/{id}/"} <= set(schema["paths"])
    token_scheme = schema["components"]["securitySchemes"]["apiToken"]
    assert (token_scheme["type"], token_scheme["scheme"]) == ("http", "bearer")
    assert "Error" in schema["components"]["schemas"]
    assert '{"error": {"code"' in schema["info"]["description"]
    me = schema["paths"]["/api/v1/me/"]["get"]
    assert me["responses"]["401"] == {"$ref": "#/components/responses/Error401"}
    assert {"apiToken": []} in me["security"]


def test_the_schema_generates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_the_docs_page_loads_its_assets_from_our_own_static_files(client, tenant):
    response = client.get("/api/docs/", HTTP_HOST=host_of(tenant))

    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html), "no CDN: docs must work offline"
    for asset in assets:
        found = finders.find(asset.removeprefix("/static/"))
        assert found, f"{asset} is not served: 'drf_spectacular_sidecar' must be in INSTALLED_APPS"


def test_the_docs_need_no_sign_in_but_never_expose_data(client, tenant):
    response = client.get("/api/schema/?format=json", HTTP_HOST=host_of(tenant))

    assert response.status_code == 200
    assert "owner@acme.example" not in response.content.decode()
