"""GET /healthz: database, Redis and worker reachability, on any host, never cached."""

from __future__ import annotations

import socket

import pytest
from django.db import connection

from tenants.services.operator import tenant_suspend
from tests.factories import host_of

CHECKS = {"database", "redis", "worker"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_shape(body: dict) -> None:
    assert set(body) == {"status", "checks"}
    assert set(body["checks"]) == CHECKS
    for check in body["checks"].values():
        assert set(check) <= {"ok", "ms", "detail"}
        assert isinstance(check["ok"], bool)
        assert isinstance(check["ms"], float | int)
        assert ("detail" in check) is (not check["ok"])


@pytest.mark.timeout(120)
def test_all_up_answers_200_on_public_workspace_unknown_and_suspended_hosts(
    client, make_tenant, live_worker
):
    acme = make_tenant(slug="acme", company_name="Acme")
    paused = make_tenant(slug="paused", company_name="Paused Inc")
    tenant_suspend(tenant=paused)

    for host in ("localhost", host_of(acme), "nowhere.example", host_of(paused)):
        response = client.get("/healthz", HTTP_HOST=host)

        assert response.status_code == 200, host
        body = response.json()
        _assert_shape(body)
        assert body["status"] == "ok"
        assert all(check["ok"] for check in body["checks"].values())
        assert "no-store" in response["Cache-Control"]
        assert not response.cookies


def test_no_worker_answers_503(client, db):
    response = client.get("/healthz", HTTP_HOST="localhost")

    assert response.status_code == 503
    body = response.json()
    _assert_shape(body)
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["worker"] == {
        "ok": False,
        "detail": "no worker answered",
        "ms": body["checks"]["worker"]["ms"],
    }
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("which", ["broker", "cache", "channel_layer"])
def test_unreachable_redis_answers_503_without_saying_where(client, db, settings, which):
    port = _closed_port()
    url = f"redis://127.0.0.1:{port}/0"
    if which == "broker":
        settings.CELERY_BROKER_URL = url
    elif which == "cache":
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    else:
        layer = settings.CHANNEL_LAYERS["default"]
        settings.CHANNEL_LAYERS = {
            "default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": [url]}}
        }

    response = client.get("/healthz", HTTP_HOST="nowhere.example")

    assert response.status_code == 503
    body = response.json()
    _assert_shape(body)
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["redis"]["detail"] == "connection refused"
    assert body["checks"]["database"]["ok"] is True
    if which == "broker":
        assert body["checks"]["worker"]["detail"] == "broker unreachable"
    assert str(port) not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()


def test_unreachable_database_answers_503(client, transactional_db):
    port = _closed_port()
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(port))
    try:
        response = client.get("/healthz", HTTP_HOST="localhost")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)

    assert response.status_code == 503
    body = response.json()
    _assert_shape(body)
    assert body["checks"]["database"] == {
        "ok": False,
        "detail": "unreachable",
        "ms": body["checks"]["database"]["ms"],
    }
    assert body["checks"]["redis"]["ok"] is True
    assert str(port) not in response.content.decode()


def test_only_get_and_head(client, db):
    response = client.post("/healthz", HTTP_HOST="localhost")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert "no-store" in response["Cache-Control"]
