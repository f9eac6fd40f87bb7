"""The widget's HTTP side: the loader script a store embeds and the chat frame it opens."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from chat.selectors.widget import widget_settings_get
from chat.services.widget_settings import CustomFieldSpec, widget_settings_update
from tests.factories import host_of
from tests.tenants.agents.clients import client_for, owner_of

pytestmark = pytest.mark.django_db

XSS = "<img src=x onerror=alert(1)>"


def _configure(tenant, **changes):
    """Save widget settings the way the settings page does (through the service)."""
    owner = owner_of(tenant)
    with tenant_context(tenant):
        row = widget_settings_get()
        values = {
            "enabled": row.enabled,
            "brand_color": row.brand_color,
            "position": row.position,
            "greeting": row.greeting,
            "ask_name": row.ask_name,
            "ask_email": row.ask_email,
            "custom_fields": [CustomFieldSpec(**f) for f in row.custom_fields],
            "reply_time_minutes": row.reply_time_minutes,
            "allowed_domains": list(row.allowed_domains),
            "language": row.language,
        }
        values.update(changes)
        widget_settings_update(actor=owner, **values)
    connection.set_schema_to_public()


def _loader_config(response) -> dict:
    match = re.search(r"var config = (\{.*?\});\n", response.content.decode())
    assert match, "the loader embeds its settings as a JSON literal"
    return json.loads(match.group(1))


def _frame_config(response) -> dict:
    match = re.search(
        r'<script id="widget-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the frame carries its settings in a json_script element"
    return json.loads(match.group(1))


def _frame_ancestors(response) -> str:
    csp = response["Content-Security-Policy"]
    directive = next(d.strip() for d in csp.split(";") if d.strip().startswith("frame-ancestors"))
    return directive.removeprefix("frame-ancestors ").strip()


# ---- /widget.js


def test_loader_is_a_short_cached_script_with_the_workspace_look(tenant):
    _configure(tenant, brand_color="#E11D48", position="left")

    response = client_for(tenant).get("/widget.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert "max-age=300" in response["Cache-Control"]
    assert "public" in response["Cache-Control"]
    assert "Accept-Language" in response["Vary"]
    config = _loader_config(response)
    assert config["brandColor"] == "#e11d48"
    assert config["onBrandColor"] == "#ffffff"
    assert config["position"] == "left"
    assert config["framePath"] == "/widget/frame/"
    assert config["origin"] == f"http://{host_of(tenant)}"
    assert config["strings"]["frameTitle"] == "Chat with Acme"
    body = response.content.decode()
    assert "attachShadow" in body
    assert "postMessage(message, origin)" in body
    assert "event.origin !== origin" in body


def test_loader_labels_follow_the_shoppers_language(tenant):
    response = client_for(tenant).get("/widget.js", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")

    config = _loader_config(response)
    assert config["strings"]["open"] == "Chat öffnen"
    assert config["dir"] == "ltr"


def test_loader_knows_which_stores_may_show_the_chat(tenant):
    assert _loader_config(client_for(tenant).get("/widget.js"))["allowedHosts"] == []

    _configure(tenant, allowed_domains=["Shop.example", "*.store.example"])

    config = _loader_config(client_for(tenant).get("/widget.js"))
    assert config["allowedHosts"] == ["shop.example", "*.store.example"]


def test_loader_of_a_switched_off_widget_draws_nothing_and_says_why(tenant):
    _configure(tenant, enabled=False)

    response = client_for(tenant).get("/widget.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    body = response.content.decode()
    assert "switched off" in body
    assert "console.info" in body
    assert "attachShadow" not in body
    assert "/widget/frame/" not in body


def test_each_workspace_loader_carries_only_its_own_settings(tenant, other_tenant):
    _configure(tenant, brand_color="#e11d48", position="left")

    response = client_for(other_tenant).get("/widget.js")

    config = _loader_config(response)
    assert config["brandColor"] == "#2563eb"
    assert config["position"] == "right"
    assert config["origin"] == f"http://{host_of(other_tenant)}"
    assert config["strings"]["frameTitle"] == "Chat with Globex"


# ---- /widget/frame/


def test_frame_may_be_embedded_anywhere_when_no_store_domains_are_set(tenant):
    response = client_for(tenant).get("/widget/frame/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "X-Frame-Options" not in response
    assert _frame_ancestors(response) == "*"
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "img-src 'self' blob: data:" in csp
    assert f"connect-src 'self' ws://{host_of(tenant)}" in csp
    assert "unsafe-inline" not in csp
    body = response.content.decode()
    assert '<script type="module" src="/static/widget/frame.js"></script>' in body
    assert 'href="/static/widget/frame.css"' in body
    # No inline script or handler: the page works under its own strict policy.
    assert not re.search(r"<script(?![^>]*(type=\"module\" src=|type=\"application/json\"))", body)
    assert not re.search(r"\son[a-z]+=", body)


def test_frame_ancestors_name_the_allowed_store_domains_and_the_workspace(tenant):
    _configure(tenant, allowed_domains=["shop.example", "*.store.example"])

    response = client_for(tenant).get("/widget/frame/")

    assert response.status_code == 200
    sources = _frame_ancestors(response).split()
    assert sources[0] == "'self'"
    assert f"{host_of(tenant)}:*" in sources
    assert "shop.example:*" in sources
    assert "*.store.example:*" in sources
    assert "store.example:*" in sources
    assert "*" not in sources


@pytest.mark.parametrize(
    "referer",
    [
        "https://shop.example/products/tent",
        "http://shop.example:8080/",
        "https://eu.store.example/cart",
        "https://store.example/",
    ],
)
def test_frame_opens_from_an_allowed_store(tenant, referer):
    _configure(tenant, allowed_domains=["shop.example", "*.store.example"])

    response = client_for(tenant).get("/widget/frame/", HTTP_REFERER=referer)

    assert response.status_code == 200
    assert _frame_config(response)["workspace"]["name"] == "Acme"


def test_frame_opens_from_the_workspace_itself(tenant):
    _configure(tenant, allowed_domains=["shop.example"])

    response = client_for(tenant).get(
        "/widget/frame/", HTTP_REFERER=f"http://{host_of(tenant)}/settings/widget/"
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.example/",
        "https://shop.example.evil.example/",
        "https://notshop.example/",
        "nonsense",
    ],
)
def test_frame_refuses_a_store_that_is_not_allowed(tenant, referer):
    _configure(tenant, allowed_domains=["shop.example"])

    response = client_for(tenant).get("/widget/frame/", HTTP_REFERER=referer)

    assert response.status_code == 403
    body = response.content.decode()
    assert "This chat can&#x27;t be used on this website." in body
    assert "Allowed store domains" in body
    assert 'id="widget-config"' not in body
    assert "frame.js" not in body
    assert "shop.example:*" in _frame_ancestors(response)


def test_frame_explains_the_refused_store_host_in_plain_text(tenant):
    _configure(tenant, allowed_domains=["shop.example"])

    response = client_for(tenant).get("/widget/frame/", HTTP_REFERER="https://evil.example/x")

    assert b"<code>evil.example</code>" in response.content


def test_frame_of_a_switched_off_widget_says_so(tenant):
    _configure(tenant, enabled=False)

    response = client_for(tenant).get("/widget/frame/")

    assert response.status_code == 404
    assert b"Chat isn&#x27;t available right now." in response.content
    assert b"frame.js" not in response.content


@pytest.mark.parametrize(
    ("accept_language", "lang", "send"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de", "Senden"),
        ("fr-CA", "fr", "Envoyer"),
        ("pt-BR,pt;q=0.9", "pt", "Enviar"),
        ("zh-CN,zh;q=0.9", "zh-Hans", "发送"),
        ("ja", "ja", "送信"),
        ("es-MX", "es", "Enviar"),
        ("ko-KR,ko;q=0.9", "en", "Send"),
        ("ko;q=1, es;q=0.4", "es", "Enviar"),
        ("", "en", "Send"),
    ],
)
def test_frame_speaks_the_browsers_language(tenant, accept_language, lang, send):
    response = client_for(tenant).get("/widget/frame/", HTTP_ACCEPT_LANGUAGE=accept_language)

    body = response.content.decode()
    assert f'<html lang="{lang}" dir="ltr">' in body
    assert f'aria-label="{send}"' in body
    assert _frame_config(response)["lang"] == lang
    assert "Accept-Language" in response["Vary"]


def test_arabic_frame_reads_right_to_left(tenant):
    response = client_for(tenant).get("/widget/frame/", HTTP_ACCEPT_LANGUAGE="ar-EG,ar;q=0.9")

    body = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in body
    assert 'aria-label="إرسال"' in body
    assert _frame_config(response)["strings"]["greeting_default"] == "مرحبًا 👋 كيف يمكننا مساعدتك؟"


def test_merchant_language_overrides_the_browser(tenant):
    _configure(tenant, language="ja")

    response = client_for(tenant).get("/widget/frame/", HTTP_ACCEPT_LANGUAGE="de-DE,de")

    assert '<html lang="ja" dir="ltr">' in response.content.decode()
    assert (
        _frame_config(response)["settings"]["greeting"]
        == "こんにちは 👋 どのようなご用件でしょうか？"
    )
    loader = client_for(tenant).get("/widget.js", HTTP_ACCEPT_LANGUAGE="de-DE,de")
    assert _loader_config(loader)["strings"]["open"] == "チャットを開く"


def test_frame_hands_the_widget_settings_to_the_script(tenant):
    _configure(
        tenant,
        greeting="Welcome to Acme!\nAsk us anything.",
        ask_email="required",
        custom_fields=[CustomFieldSpec(label="Order number", required=True)],
        reply_time_minutes=240,
        brand_color="#fde047",
    )

    settings = _frame_config(client_for(tenant).get("/widget/frame/"))["settings"]

    assert settings == {
        "greeting": "Welcome to Acme!\nAsk us anything.",
        "askName": True,
        "askEmail": "required",
        "customFields": [{"key": "order_number", "label": "Order number", "required": True}],
        "replyTimeMinutes": 240,
        "brandColor": "#fde047",
        "onBrandColor": "#111827",
    }


def test_greeting_and_workspace_name_are_inert_text(tenant):
    _configure(tenant, greeting=XSS, custom_fields=[CustomFieldSpec(label=XSS)])
    tenant.name = XSS
    tenant.save(update_fields=["name"])

    response = client_for(tenant).get("/widget/frame/")

    body = response.content.decode()
    assert XSS not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body  # the header's name, escaped
    config = _frame_config(response)
    # Kept as text for the script, which only ever sets it with textContent.
    assert config["settings"]["greeting"] == XSS
    assert config["workspace"]["name"] == XSS
    loader = client_for(tenant).get("/widget.js").content.decode()
    assert XSS not in loader
    assert "</" not in loader.split("var config = ", 1)[1].split(";\n", 1)[0]


def test_widget_pages_on_an_unknown_host_are_not_found(client, tenant):
    for path in ("/widget.js", "/widget/frame/"):
        response = client.get(path, HTTP_HOST="nope.localhost")
        assert response.status_code == 404, path
        assert b"widget-config" not in response.content


def test_widget_pages_are_not_on_the_public_site(client, tenant):
    for path in ("/widget.js", "/widget/frame/"):
        assert client.get(path, HTTP_HOST="localhost").status_code == 404, path


def test_widget_pages_read_few_queries(tenant, django_assert_max_num_queries):
    http = client_for(tenant)
    http.get("/widget/frame/")  # creates the settings row on first use

    with django_assert_max_num_queries(6):
        http.get("/widget.js")
    with django_assert_max_num_queries(8):
        http.get("/widget/frame/")
