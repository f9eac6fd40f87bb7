"""Settings → Chat widget: the snippet, the widget's options, the identity secret. Admins only."""

from __future__ import annotations

import re
import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from chat.identity import identity_signature, identity_verify
from chat.models import WidgetSettings
from chat.selectors.widget import widget_settings_get
from tests.factories import AgentFactory
from tests.tenants.agents.clients import client_for, in_schema, owner_of, signed_in

pytestmark = pytest.mark.django_db

URL = "/settings/chat-widget/"
XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = b"&lt;img src=x onerror=alert(1)&gt;"


def _form(*, fields: list[tuple[str, bool, str]] = (), **overrides) -> dict:
    """A full POST of the page's form; `fields` are (label, required, key) rows."""
    data = {
        "enabled": "on",
        "brand_color": "#2563eb",
        "position": "right",
        "greeting": "",
        "ask_name": "on",
        "ask_email": "optional",
        "reply_time_minutes": "120",
        "allowed_domains": "",
        "language": "",
        "fields-TOTAL_FORMS": str(len(fields)),
        "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "10",
    }
    for i, (label, required, key) in enumerate(fields):
        data[f"fields-{i}-label"] = label
        data[f"fields-{i}-key"] = key
        if required:
            data[f"fields-{i}-required"] = "on"
    for name, value in overrides.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def _row(tenant) -> WidgetSettings:
    return in_schema(tenant, widget_settings_get)


def _unchanged(row: WidgetSettings, before: WidgetSettings) -> bool:
    fields = [f.name for f in WidgetSettings._meta.fields]
    return all(getattr(row, name) == getattr(before, name) for name in fields)


def test_admin_sees_the_snippet_for_the_workspace_host(tenant):
    client = signed_in(tenant, owner_of(tenant))

    page = client.get(URL)

    assert page.status_code == 200
    assert (
        b"&lt;script src=&quot;http://acme.localhost/widget.js&quot; async&gt;&lt;/script&gt;"
        in (page.content)
    )
    assert b'data-copy-target="widget-snippet"' in page.content
    assert "no-store" in page["Cache-Control"]


def test_the_snippet_keeps_the_port_the_admin_uses(tenant):
    owner = owner_of(tenant)
    client = client_for(tenant, port=8000)
    in_schema(tenant, lambda: client.force_login(owner))

    page = client.get(URL)

    assert b"http://acme.localhost:8000/widget.js" in page.content


def test_admin_changes_settings_and_sees_them(tenant, other_tenant):
    client = signed_in(tenant, owner_of(tenant))

    response = client.post(
        URL,
        _form(
            enabled=None,  # unchecked
            brand_color="#FF5500",
            position="left",
            greeting="Hi! Ask us anything about your order.",
            ask_name=None,
            ask_email="required",
            reply_time_minutes="15",
            allowed_domains="https://Shop.Example.com/cart?x=1\n*.example.org\nshop.example.com\n",
            language="zh-Hans",
            fields=[("Order number", True, ""), ("  Phone   number ", False, "")],
        ),
    )

    assert response.status_code == 302
    row = _row(tenant)
    assert row.enabled is False
    assert row.brand_color == "#ff5500"
    assert row.position == "left"
    assert row.greeting == "Hi! Ask us anything about your order."
    assert row.ask_name is False
    assert row.ask_email == "required"
    assert row.reply_time_minutes == 15
    assert row.allowed_domains == ["shop.example.com", "*.example.org"]
    assert row.language == "zh-Hans"
    assert row.custom_fields == [
        {"key": "order_number", "label": "Order number", "required": True},
        {"key": "phone_number", "label": "Phone number", "required": False},
    ]
    page = client.get(URL).content.decode()
    assert 'value="#ff5500"' in page
    assert 'value="left" id="id_position_1" required checked' in page
    assert "shop.example.com\n*.example.org</textarea>" in page
    assert 'value="Order number"' in page and "order_number" in page
    assert '<option value="zh-Hans" selected>' in page
    assert '<option value="15" selected>' in page
    assert "Chat widget settings saved." in page
    # The other workspace keeps its defaults.
    assert _row(other_tenant).brand_color == "#2563eb"
    assert _row(other_tenant).allowed_domains == []


def test_a_renamed_question_keeps_its_answer_key(tenant):
    client = signed_in(tenant, owner_of(tenant))
    client.post(URL, _form(fields=[("Order number", False, "")]))

    client.post(URL, _form(fields=[("Your order number", False, "order_number"), ("", True, "")]))

    assert _row(tenant).custom_fields == [
        {"key": "order_number", "label": "Your order number", "required": False}
    ]


def test_questions_with_the_same_label_get_distinct_keys(tenant):
    client = signed_in(tenant, owner_of(tenant))

    client.post(URL, _form(fields=[("Order", False, ""), ("order", False, ""), ("¿?", False, "")]))

    keys = [field["key"] for field in _row(tenant).custom_fields]
    assert keys == ["order", "order_2", "field"]


def test_agent_gets_403_and_nothing_changes(tenant):
    agent = AgentFactory(tenant=tenant)
    client = signed_in(tenant, agent)
    before = _row(tenant)

    page = client.get(URL)
    post = client.post(URL, _form(brand_color="#000000", allowed_domains="evil.example"))
    rotate = client.post("/settings/chat-widget/secret/rotate/")

    assert page.status_code == post.status_code == rotate.status_code == 403
    assert before.identity_secret.encode() not in page.content
    assert _unchanged(_row(tenant), before)
    assert b"/settings/chat-widget/" not in client.get("/").content  # no way there in the UI


def test_signed_out_visitor_is_sent_to_sign_in(tenant):
    before = _row(tenant)

    response = client_for(tenant).post(URL, _form(brand_color="#000000"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert _unchanged(_row(tenant), before)


INVALID = [
    ({"brand_color": "red"}, "brand_color", "six hex digits"),
    ({"brand_color": "#12345"}, "brand_color", "six hex digits"),
    ({"brand_color": "#12345g"}, "brand_color", "six hex digits"),
    ({"brand_color": "#123456;background:url(x)"}, "brand_color", ""),
    ({"allowed_domains": "shop.example.com\nnot a domain"}, "allowed_domains", "not a valid"),
    ({"allowed_domains": "*"}, "allowed_domains", "leave the list empty"),
    ({"allowed_domains": "*.com"}, "allowed_domains", "not a valid"),
    ({"allowed_domains": "shop_example.com"}, "allowed_domains", "not a valid"),
    ({"allowed_domains": "javascript:alert(1)"}, "allowed_domains", "not a valid"),
    (
        {"allowed_domains": "\n".join(f"s{i}.example.com" for i in range(51))},
        "allowed_domains",
        "at most 50",
    ),
    ({"greeting": "x" * 301}, "greeting", "300 characters"),
    ({"position": "top"}, "position", ""),
    ({"ask_email": "sometimes"}, "ask_email", ""),
    ({"reply_time_minutes": "7"}, "reply_time_minutes", ""),
    ({"language": "klingon"}, "language", ""),
]


@pytest.mark.parametrize(("overrides", "field", "message"), INVALID)
def test_invalid_settings_show_an_error_and_store_nothing(tenant, overrides, field, message):
    client = signed_in(tenant, owner_of(tenant))
    before = _row(tenant)

    response = client.post(URL, _form(**overrides))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in " ".join(response.context["form"].errors[field])
    assert b"Nothing was saved." in response.content
    assert _unchanged(_row(tenant), before)


def test_the_refused_value_stays_in_the_form_to_correct(tenant):
    client = signed_in(tenant, owner_of(tenant))

    response = client.post(URL, _form(allowed_domains="shop.example.com\nnot a domain"))

    assert "“not a domain” is not a valid domain" in response.content.decode()
    assert "shop.example.com\nnot a domain</textarea>" in response.content.decode()


def test_custom_field_rules(tenant):
    client = signed_in(tenant, owner_of(tenant))
    before = _row(tenant)

    too_many = client.post(URL, _form(fields=[(f"Q{i}", False, "") for i in range(11)]))
    too_long = client.post(URL, _form(fields=[("x" * 61, False, "")]))
    control = client.post(URL, _form(fields=[("Order\u202enumber", False, "")]))

    assert too_many.status_code == too_long.status_code == control.status_code == 400
    assert "at most 10 extra questions" in too_many.content.decode()
    assert b"at most 60 characters" in too_long.content
    assert b"letters, digits and punctuation" in control.content
    assert _unchanged(_row(tenant), before)


def test_a_forged_answer_key_is_replaced_by_one_made_from_the_label(tenant):
    client = signed_in(tenant, owner_of(tenant))

    client.post(URL, _form(fields=[("Order number", False, "<script>")]))

    assert _row(tenant).custom_fields[0]["key"] == "order_number"


def test_markup_in_greeting_and_question_labels_renders_inert(tenant):
    client = signed_in(tenant, owner_of(tenant))
    client.post(URL, _form(greeting=XSS, fields=[(XSS, True, "")]))
    assert _row(tenant).greeting == XSS

    page = client.get(URL).content

    assert b"<img src=x" not in page
    assert page.count(XSS_ESCAPED) == 2  # the greeting and the question


def test_markup_refused_in_the_form_is_shown_back_inert(tenant):
    client = signed_in(tenant, owner_of(tenant))

    page = client.post(URL, _form(greeting=XSS, brand_color=XSS)).content

    assert b"<img src=x" not in page
    assert XSS_ESCAPED in page


def test_secret_is_masked_until_revealed(tenant):
    client = signed_in(tenant, owner_of(tenant))
    secret = _row(tenant).identity_secret

    masked = client.get(URL).content.decode()
    revealed = client.get(URL + "?reveal=1").content.decode()

    assert secret not in masked and secret[-4:] in masked
    assert secret in revealed


def test_rotation_asks_first_then_the_old_secret_stops_working(tenant):
    client = signed_in(tenant, owner_of(tenant))
    old = _row(tenant).identity_secret
    timestamp = int(time.time())
    identity = {"id": "42", "email": "ana@example.com", "name": "Ana", "timestamp": timestamp}
    identity["signature"] = identity_signature(
        secret=old, timestamp=timestamp, external_id="42", email="ana@example.com", name="Ana"
    )
    assert identity_verify(identity=identity, secret=old, now=timezone.now()).external_id == "42"

    confirm = client.get("/settings/chat-widget/secret/rotate/")
    assert confirm.status_code == 200 and b"stops working immediately" in confirm.content
    assert _row(tenant).identity_secret == old  # asking changes nothing

    response = client.post("/settings/chat-widget/secret/rotate/")

    new = _row(tenant).identity_secret
    assert response.status_code == 302 and response["Location"].endswith("?reveal=1#identity")
    assert new != old and len(new) == 64
    with pytest.raises(ValidationError):
        identity_verify(identity=identity, secret=new, now=timezone.now())
    assert new in client.get(response["Location"]).content.decode()


def test_rotation_leaves_the_other_workspace_alone(tenant, other_tenant):
    other_secret = _row(other_tenant).identity_secret
    mine = _row(tenant).identity_secret

    signed_in(tenant, owner_of(tenant)).post("/settings/chat-widget/secret/rotate/")

    assert _row(other_tenant).identity_secret == other_secret
    assert _row(tenant).identity_secret != mine


def test_each_workspace_has_its_own_secret(tenant, other_tenant):
    assert _row(tenant).identity_secret != _row(other_tenant).identity_secret


def test_the_signing_example_matches_the_server(tenant):
    page = signed_in(tenant, owner_of(tenant)).get(URL).content.decode()

    expected = identity_signature(
        secret="example-secret",
        timestamp=1764000000,
        external_id="42",
        email="ana@example.com",
        name="Ana",
    )
    assert expected in page
    for language in ("Python", "PHP", "Node.js"):
        assert f"<summary>{language}</summary>" in page
    assert "window.HelpdeskWidget = {identity: {" in page


def test_settings_tabs_link_the_three_pages(tenant):
    client = signed_in(tenant, owner_of(tenant))

    for path in ("/settings/", URL, "/settings/canned-responses/"):
        page = client.get(path).content.decode()
        assert 'aria-label="Settings"' in page, path
        for href in ('href="/settings/"', f'href="{URL}"', 'href="/settings/canned-responses/"'):
            assert href in page, (path, href)
        # The sidebar keeps Settings as the current section.
        assert re.search(r'href="/settings/" class="nav-item is-current"', page), path


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("shop.example.com", "shop.example.com"),
        ("  Shop.Example.COM.  ", "shop.example.com"),
        ("https://shop.example.com/", "shop.example.com"),
        ("https://shop.example.com:8443/cart?item=1#top", "shop.example.com"),
        ("shop.example.com/products/tent", "shop.example.com"),
        ("http://user:pass@shop.example.com", "shop.example.com"),
        ("*.example.com", "*.example.com"),
        ("https://*.example.com/", "*.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("localhost:8000", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
    ],
)
def test_pasted_addresses_are_reduced_to_the_host(typed, stored):
    from chat.services.widget_settings import store_domain_normalize

    assert store_domain_normalize(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "myshop",
        "*.localhost",
        "*.127.0.0.1",
        "shop..example.com",
        "-shop.example.com",
        "http://[::1]:8000/",
        "mailto:ana@example.com",
        "shop.example.com:http",
        "1.2.3",
        "*.*.x.com",
    ],
)
def test_things_that_are_not_store_hosts_are_refused(typed):
    from chat.services.widget_settings import store_domain_normalize

    with pytest.raises(ValidationError):
        store_domain_normalize(typed)


def test_the_service_refuses_an_agent_whichever_door_they_use(tenant):
    from django.core.exceptions import PermissionDenied

    from chat.services.widget_settings import widget_secret_rotate, widget_settings_update

    agent = AgentFactory(tenant=tenant)
    before = _row(tenant)

    def attempt():
        with pytest.raises(PermissionDenied):
            widget_secret_rotate(actor=agent)
        with pytest.raises(PermissionDenied):
            widget_settings_update(
                actor=agent,
                enabled=False,
                brand_color="#000000",
                position="left",
                greeting="",
                ask_name=False,
                ask_email="off",
                custom_fields=[],
                reply_time_minutes=5,
                allowed_domains=[],
                language="",
            )

    in_schema(tenant, attempt)
    assert _unchanged(_row(tenant), before)
