"""Issue #3's "done when", in real Chromium: a shopper chats from a store on another origin.

A plain HTML store page, served by its own little HTTP server on 127.0.0.1, carries the one-line
snippet pointing at the workspace (acme.localhost on a real daphne, so the WebSockets are real).
The visitor opens the widget and writes; an agent signed in to the inbox in another browser
profile sees it without reloading and answers; the visitor sees the answer; after a reload of
the store page the history is still there. Screenshots of the widget go to docs/screenshots/.
"""

from __future__ import annotations

import functools
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from chat.models import Conversation, Message
from chat.services.widget_settings import widget_settings_update
from tenants.agents.models import User
from tenants.agents.services.accounts import agent_status_set
from tests.factories import AGENT_PASSWORD, AgentFactory, host_of

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
XSS = "<img src=x onerror=alert(1)>"
XSS_LINK = "[x](javascript:alert(1))"
GREETING = "Hi! Questions about sizes or delivery? We're happy to help."

STORE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trail Outfitters · Tents</title>
<style>
  /* A store's CSS that would wreck a widget drawn in its DOM. */
  * {{ font-family: Georgia, serif !important; box-sizing: content-box !important; }}
  button {{ background: hotpink !important; border: 4px solid lime !important; }}
  iframe {{ border: 8px solid red !important; }}
  body {{ margin: 0; background: #f6f1e7; color: #2d2a26; }}
  header {{ background: #2d3b2d; color: #fff; padding: 18px 32px; font-size: 22px; }}
  main {{ padding: 24px 32px; max-width: 860px; }}
  .grid {{ display: grid; gap: 20px;
           grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); }}
  .card {{ background: #fff; border-radius: 8px; height: 200px; padding: 16px; }}
</style></head>
<body>
<header>Trail Outfitters</header>
<main><h1>Tents &amp; shelters</h1><p>Lightweight tents for every trail.</p>
<div class="grid"><div class="card">Alpine 2P<br>$289</div><div class="card">Ridge 3P<br>$349</div>
<div class="card">Summit 1P<br>$199</div></div></main>
<script src="{widget_js}" async></script>
</body></html>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def store(tmp_path):
    """Start a store site on 127.0.0.1 (another origin than the workspace); returns its URL."""
    root = tmp_path / "store"
    root.mkdir()
    servers = []

    def _open(widget_js: str) -> str:
        (root / "index.html").write_text(STORE_PAGE.format(widget_js=widget_js))
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield _open
    for server in servers:
        server.shutdown()
        server.server_close()


def _fail_on_dialog(page):
    def dialog(d):
        d.dismiss()
        pytest.fail(f"A dialog opened: {d.message!r} (injected script ran)")

    page.on("dialog", dialog)


def test_shopper_and_agent_chat_live_across_origins(make_tenant, daphne, store, new_page, chromium):
    tenant = make_tenant(slug="acme", company_name="Acme Outdoor")
    agent_user = AgentFactory(tenant=tenant, name="Luis Ortega", email="luis@acme.example")
    with tenant_context(tenant):
        agent_status_set(agent=agent_user, status="online")
        widget_settings_update(
            actor=User.objects.get(role=User.Role.OWNER),
            enabled=True,
            brand_color="#2563eb",
            position="right",
            greeting=GREETING,
            ask_name=True,
            ask_email="optional",
            custom_fields=[],
            reply_time_minutes=60,
            allowed_domains=[],
            language="",
        )
    connection.set_schema_to_public()
    workspace = f"http://{host_of(tenant)}:{daphne.port}"
    store_url = store(f"{workspace}/widget.js")

    # The agent signs in and keeps the inbox open.
    agent = new_page()
    _fail_on_dialog(agent)
    agent.goto(f"{workspace}/accounts/login/")
    agent.get_by_label("Email").fill("luis@acme.example")
    agent.get_by_label("Password").fill(AGENT_PASSWORD)
    agent.get_by_role("button", name="Sign in").click()
    agent.wait_for_url(re.compile(r"^http://acme\.localhost:\d+/$"))
    agent.goto(f"{workspace}/inbox/")

    # A shopper on the store opens the widget. The store's CSS can't touch the launcher.
    shopper = new_page()
    _fail_on_dialog(shopper)
    shopper.goto(store_url)
    launcher = shopper.get_by_role("button", name="Open chat")
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(37, 99, 235)"
    launcher.click()
    chat = shopper.frame_locator("iframe[title='Chat with Acme Outdoor']")
    chat.get_by_text(GREETING).wait_for()
    chat.get_by_text("We're online").wait_for()

    # Pre-chat form, then the first message (Enter sends).
    chat.get_by_role("textbox", name="Name").fill("Ana Souza")
    chat.get_by_role("button", name="Start chat").click()
    box = chat.get_by_role("textbox", name="Message")
    box.fill("Hi! Where is my order #1042?")
    box.press("Enter")
    chat.locator(".msg--customer .bubble", has_text="Where is my order #1042?").wait_for()

    # The agent sees it arrive without reloading, opens it and answers.
    agent.get_by_role("listitem").filter(has_text="Where is my order #1042?").first.click()
    agent.locator("#ib-messages").get_by_text("Hi! Where is my order #1042?").wait_for()
    reply = agent.get_by_label("Reply to the customer")
    reply.fill("Hi Ana! It left our warehouse this morning — you'll get tracking by email.")
    reply.press("Enter")

    # The shopper sees the answer live, with who wrote it; the agent has read their message.
    answer = chat.locator(".msg--agent .bubble", has_text="It left our warehouse this morning")
    answer.wait_for()
    assert chat.locator(".msg--agent .msg-author", has_text="Luis Ortega").count() == 1
    chat.locator(".msg-meta .seen").wait_for()
    box.fill("Great, thanks!\nCould it come before Friday?")
    box.press("Enter")
    chat.locator(".msg--customer .bubble", has_text="Could it come before Friday?").wait_for()
    agent.locator("#ib-messages").get_by_text("Could it come before Friday?").wait_for()
    # The agent has the conversation open, so this one is read too.
    chat.locator(".msg--customer", has_text="Could it come before Friday?").locator(
        ".seen"
    ).wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shopper.screenshot(path=str(SCREENSHOTS / "widget.png"))

    # Stored once each, in order, in the workspace.
    with tenant_context(tenant):
        conversation = Conversation.objects.select_related("contact").get()
        messages = list(conversation.messages.order_by("seq").values_list("sender_kind", "body"))
        contact_name = conversation.contact.name
    connection.set_schema_to_public()
    assert contact_name == "Ana Souza"
    assert [kind for kind, _ in messages] == ["customer", "agent", "customer"]
    assert messages[1][1].startswith("Hi Ana! It left our warehouse")

    # A reload of the store page: the chat is still open, the history comes back, nothing doubled.
    shopper.reload()
    shopper.get_by_role("button", name="Close chat").wait_for()
    chat = shopper.frame_locator("iframe[title='Chat with Acme Outdoor']")
    chat.locator(".msg--agent .bubble", has_text="It left our warehouse this morning").wait_for()
    assert chat.locator(".msg--customer .bubble", has_text="Where is my order #1042?").count() == 1
    assert chat.locator(".msg--customer").count() == 2
    with tenant_context(tenant):
        assert Message.objects.count() == 3
    connection.set_schema_to_public()

    # The shopper's network drops: what they write waits, what the agent writes meanwhile comes
    # in when it is back, and each arrives exactly once.
    shopper.context.set_offline(True)
    box = chat.get_by_role("textbox", name="Message")
    box.fill("Written on the train")
    box.press("Enter")
    reply.fill("Any other question?")
    reply.press("Enter")
    agent.locator("#ib-messages").get_by_text("Any other question?").wait_for()
    assert agent.locator("#ib-messages").get_by_text("Written on the train").count() == 0
    shopper.context.set_offline(False)
    agent.locator("#ib-messages").get_by_text("Written on the train").wait_for(timeout=30_000)
    chat.locator(".msg--agent .bubble", has_text="Any other question?").wait_for(timeout=30_000)
    with tenant_context(tenant):
        bodies = list(Message.objects.order_by("seq").values_list("body", flat=True))
    connection.set_schema_to_public()
    assert bodies.count("Written on the train") == 1 and bodies.count("Any other question?") == 1
    assert len(bodies) == 5
    assert chat.locator(".msg--customer .bubble", has_text="Written on the train").count() == 1
    assert chat.locator(".msg--agent .bubble", has_text="Any other question?").count() == 1

    # The same shopper on a phone-sized screen: the chat fills it.
    phone_context = chromium.new_context(
        viewport={"width": 375, "height": 740},
        is_mobile=True,
        has_touch=True,
        storage_state=shopper.context.storage_state(),
    )
    try:
        phone = phone_context.new_page()
        _fail_on_dialog(phone)
        phone.goto(store_url)
        phone.get_by_role("button", name=re.compile("Open chat")).click()
        frame = phone.locator("iframe[title='Chat with Acme Outdoor']")
        phone_chat = phone.frame_locator("iframe[title='Chat with Acme Outdoor']")
        phone_chat.locator(".msg--agent .bubble", has_text="It left our warehouse").wait_for()
        # The panel animates open; wait for it to settle at the full phone screen.
        size = None
        for _ in range(30):
            box_size = frame.bounding_box()
            assert box_size is not None
            size = (round(box_size["width"]), round(box_size["height"]))
            if size == (375, 740):
                break
            phone.wait_for_timeout(100)
        assert size == (375, 740)
        phone.screenshot(path=str(SCREENSHOTS / "widget-phone.png"))
        # Escape closes it and gives the launcher back.
        phone_chat.get_by_role("textbox", name="Message").press("Escape")
        phone.get_by_role("button", name=re.compile("Open chat")).wait_for()
    finally:
        phone_context.close()

    # Whatever the shopper types stays text on both sides (a dialog would fail the test).
    box = chat.get_by_role("textbox", name="Message")
    box.fill(XSS)
    box.press("Enter")
    chat.locator(".msg--customer .bubble", has_text=XSS).wait_for()
    agent.locator("#ib-messages").get_by_text(XSS).wait_for()
    assert chat.locator(".msg--customer .bubble img").count() == 0
    box.fill(XSS_LINK)
    box.press("Enter")
    chat.locator(".msg--customer .bubble", has_text=XSS_LINK).wait_for()
    agent.locator("#ib-messages").get_by_text(XSS_LINK).wait_for()
    assert chat.locator('a[href^="javascript:"]').count() == 0
    assert agent.locator('a[href^="javascript:"]').count() == 0


def test_store_outside_the_allowed_domains_gets_no_chat(make_tenant, daphne, store, new_page):
    tenant = make_tenant(slug="acme", company_name="Acme Outdoor")
    with tenant_context(tenant):
        widget_settings_update(
            actor=User.objects.get(role=User.Role.OWNER),
            enabled=True,
            brand_color="#2563eb",
            position="right",
            greeting="",
            ask_name=True,
            ask_email="optional",
            custom_fields=[],
            reply_time_minutes=60,
            allowed_domains=["shop.example"],
            language="",
        )
    connection.set_schema_to_public()
    store_url = store(f"http://{host_of(tenant)}:{daphne.port}/widget.js")
    page = new_page()
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)

    with page.expect_console_message(lambda m: "allowed store domains" in m.text):
        page.goto(store_url)

    assert page.locator("helpdesk-chat-widget").count() == 0
    assert page.locator("iframe").count() == 0
    assert any(
        "127.0.0.1 is not one of this workspace's allowed store domains" in w for w in warnings
    )
