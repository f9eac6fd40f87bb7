"""The agent inbox in real Chromium against a real daphne (HTTP and the agent WebSocket): the
chat flow through the ticket list. Filters, ticket edits, merging and email are in
test_ticket_inbox.py.

Customer messages are stored through chat.services.messages.message_create, in a thread of
their own: Playwright's sync API keeps an event loop in the test's thread, where the service's
after-commit broadcast (async_to_sync) would refuse to run. The broadcast then reaches the
daphne process through Redis, as a visitor's message would.
"""

from __future__ import annotations

import io
import re
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.db.models import F
from django_tenants.utils import tenant_context

from chat.models import CannedResponse, Conversation, EmailMessage, Message
from chat.services.attachments import attachment_upload
from chat.services.conversations import conversation_open, conversation_read_by_visitor
from chat.services.messages import message_create
from chat.services.typing import typing_from_visitor
from helpdesk.contacts.models import Contact
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.services.fields import ticket_assign
from tenants.agents.models import User
from tests.factories import AGENT_PASSWORD, AgentFactory, ConversationFactory, host_of

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

XSS = "<img src=x onerror=alert(1)>"
XSS_LINK = "[x](javascript:alert(1))"
CANNED_BODY = "Orders ship within 24 hours; delivery takes 3-5 working days."
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "inbox.png"


def in_thread(fn):
    """Run fn in a thread of its own (no event loop there), with its own DB connection."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = fn()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def customer_says(tenant, conversation_id: int, body: str, **kwargs):
    def write():
        with tenant_context(tenant):
            conversation = Conversation.objects.get(pk=conversation_id)
            return message_create(
                conversation=conversation, sender_kind="customer", body=body, **kwargs
            ).message

    return in_thread(write)


def new_conversation(tenant, *, name: str, email: str = "", messages=(), **contact_fields):
    def write():
        with tenant_context(tenant):
            contact = Contact.objects.create(name=name, email=email, **contact_fields)
            conversation = ConversationFactory(contact=contact)
            for body in messages:
                message_create(conversation=conversation, sender_kind="customer", body=body)
            return conversation.pk

    return in_thread(write)


def ticket_of(tenant, conversation_id: int) -> int:
    def read():
        with tenant_context(tenant):
            return Conversation.objects.get(pk=conversation_id).ticket_id

    return in_thread(read)


def stored(tenant, **filters):
    def read():
        with tenant_context(tenant):
            return list(Message.objects.filter(**filters).values_list("body", flat=True))

    return in_thread(read)


def wait_until(check, *, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _canned(tenant, shortcut: str, title: str, body: str) -> None:
    with tenant_context(tenant):
        CannedResponse.objects.create(shortcut=shortcut, title=title, body=body)


def sign_in_to_inbox(page, tenant, port: int, agent, path: str = "/inbox/", lands_on=None):
    base = f"http://{host_of(tenant)}:{port}"
    page.goto(f"{base}/accounts/login/?next={path}")
    page.get_by_label("Email").fill(agent.email)
    page.get_by_label("Password").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(lands_on or path) + "$"))
    page.locator('#ib-conn[data-state="open"]').wait_for()
    return base


# ---- The flow -------------------------------------------------------------------------------


def test_agent_answers_a_live_chat_without_reloading(make_tenant, daphne, new_page):
    tenant = make_tenant(slug="acme", company_name="Acme")
    agent = AgentFactory(tenant=tenant, name="Luis Ortega", timezone="Europe/Madrid")
    ana = new_conversation(
        tenant,
        name="Ana Souza",
        email="ana@example.com",
        messages=["Hi! Where is my order?"],
        timezone="America/Sao_Paulo",
        country="BR",
        last_page_url="https://shop.example/orders/4411",
        last_page_title="Order #4411",
    )

    in_thread(lambda: _canned(tenant, "shipping", "Shipping times", CANNED_BODY))

    ana_ticket = ticket_of(tenant, ana)

    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in_to_inbox(page, tenant, daphne.port, agent)
    # Gone if anything reloads the page: everything below must happen live.
    page.evaluate("window.__sameDocument = true")
    tickets = page.locator("#ib-ticket-list")
    thread = page.locator("#ib-message-list")

    # The waiting chat is listed as a ticket; opening it shows its history and the customer.
    row = tickets.locator(f'a[data-id="{ana_ticket}"]')
    assert "Ana Souza" in row.inner_text() and "Hi! Where is my order?" in row.inner_text()
    assert row.locator(".ib-channel-web").count() == 1
    assert row.locator(".ib-status-new").inner_text() == "New"
    tickets.get_by_text("Ana Souza").click()
    page.wait_for_url(re.compile(rf"/inbox/tickets/{ana_ticket}/$"))
    thread.get_by_text("Hi! Where is my order?").wait_for()
    # At this width the customer panel is a drawer behind a button.
    page.get_by_role("button", name="Customer details").click()
    panel = page.locator("#ib-customer-body")
    panel.get_by_text("ana@example.com").wait_for()
    assert panel.get_by_role("link", name=re.compile("Order #4411")).get_attribute("rel") == (
        "noopener noreferrer nofollow"
    )
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")

    # A new message from the customer appears in the open conversation, no reload.
    customer_says(tenant, ana, "It was due yesterday.")
    thread.get_by_text("It was due yesterday.").wait_for()

    # A brand-new chat appears in the list by itself as a ticket, with its unread count.
    ben = ticket_of(
        tenant, new_conversation(tenant, name="Ben Carter", messages=["Do you ship to Canada?"])
    )
    item = tickets.locator(f'a[data-id="{ben}"]')
    item.wait_for()
    assert "Do you ship to Canada?" in item.inner_text()
    assert item.locator(".ib-unread > [aria-hidden]").inner_text() == "1"
    assert item.get_by_text("1 unread").count() == 1
    assert wait_until(lambda: page.title().startswith("(1) Inbox"))

    # The customer is typing, and the agent sees it.
    in_thread(
        lambda: async_to_sync(typing_from_visitor)(
            schema_name=tenant.schema_name, conversation_id=ana, is_typing=True
        )
    )
    page.get_by_text("Ana Souza is typing…").wait_for()

    # Enter sends the reply; it is stored as the agent's message.
    page.locator("#ib-input").fill("Sorry about that! It left our warehouse this morning.")
    page.locator("#ib-input").press("Enter")
    page.locator(".ib-msg-agent:not(.is-pending)", has_text="It left our warehouse").wait_for()
    assert wait_until(
        lambda: stored(
            tenant,
            conversation_id=ana,
            sender_kind="agent",
            sender_agent=agent.pk,
            is_internal=False,
        )
    ) == ["Sorry about that! It left our warehouse this morning."]
    assert page.locator("#ib-input").input_value() == ""

    # The customer reads it: the agent sees "Seen" under the reply.
    def visitor_reads():
        with tenant_context(tenant):
            conversation = Conversation.objects.get(pk=ana)
            conversation_read_by_visitor(conversation=conversation, seq=conversation.last_seq)

    in_thread(visitor_reads)
    page.locator(".ib-msg-agent .ib-msg-status", has_text="Seen").wait_for()

    # An internal note is stored as one and shown as one.
    page.get_by_role("button", name="Internal note").click()
    page.locator("#ib-input").fill("VIP customer: offer free express shipping.")
    page.locator("#ib-input").press("Enter")
    note = page.locator(".ib-msg-note:not(.is-pending)", has_text="VIP customer")
    note.wait_for()
    assert "Internal note" in note.text_content()
    assert wait_until(lambda: stored(tenant, conversation_id=ana, is_internal=True)) == [
        "VIP customer: offer free express shipping."
    ]

    # "/" opens the saved replies; Enter puts the chosen one in the reply box.
    page.get_by_role("button", name="Reply", exact=True).click()
    box = page.locator("#ib-input")
    box.press_sequentially("/ship")
    page.locator("#ib-canned [role=option]", has_text="/shipping").wait_for()
    box.press("Enter")
    assert box.input_value() == CANNED_BODY
    assert page.locator("#ib-canned").is_hidden()
    box.fill("")

    # Hostile text from a customer shows as the characters they typed.
    customer_says(tenant, ana, XSS)
    customer_says(tenant, ana, XSS_LINK)
    thread.get_by_text(XSS_LINK, exact=True).wait_for()
    assert thread.locator(".ib-body", has_text=XSS).count() == 1
    assert thread.locator("img").count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0
    hostile = ticket_of(tenant, new_conversation(tenant, name=XSS, messages=[XSS]))
    tickets.locator(f'a[data-id="{hostile}"]').wait_for()
    assert XSS in tickets.locator(f'a[data-id="{hostile}"]').inner_text()
    assert page.locator("#ib-ticket-list img").count() == 0

    # A picture sent from the attach button shows inline, served by the access-checked view.
    page.locator("#ib-file").set_input_files(
        files=[{"name": "label.png", "mimeType": "image/png", "buffer": _photo()}]
    )
    page.locator("#ib-uploads .ib-chip.is-done", has_text="label.png").wait_for()
    page.locator("#ib-input").press("Enter")
    picture = thread.locator(".ib-msg-agent:not(.is-pending) .ib-image img")
    picture.wait_for()
    assert re.fullmatch(r"/attachments/[0-9a-f-]{36}/", picture.get_attribute("src"))
    assert picture.evaluate("img => img.decode().then(() => img.naturalWidth)") == 480

    # Assign to me and solve, from the ticket header; the chat follows its ticket.
    page.get_by_label("Assignee", exact=True).select_option(str(agent.pk))
    page.locator("#ib-thread-sub .ib-status-open").wait_for()
    page.get_by_label("Status", exact=True).select_option("solved")
    page.locator("#ib-thread-sub .ib-status-solved").wait_for()

    def state():
        with tenant_context(tenant):
            conversation = Conversation.objects.select_related("ticket").get(pk=ana)
            return conversation.status, conversation.ticket.status, conversation.ticket.assignee_id

    assert wait_until(lambda: state() == ("resolved", "solved", agent.pk))
    # Solved tickets leave the Active list.
    tickets.locator(f'a[data-id="{ana_ticket}"]').wait_for(state="detached")

    # Reopened, then on hold until tomorrow 9:00 in the agent's time zone.
    page.get_by_label("Status", exact=True).select_option("open")
    assert wait_until(lambda: state() == ("open", "open", agent.pk))
    page.locator("#ib-hold [data-menu-trigger]").click()
    page.get_by_role("menuitem", name=re.compile("^Tomorrow")).click()
    page.locator("#ib-thread-sub .ib-status-on_hold").wait_for()
    page.locator("#ib-snooze-banner", has_text="On hold until tomorrow").wait_for()

    def snoozed_until():
        with tenant_context(tenant):
            return Conversation.objects.get(pk=ana).snoozed_until

    until = wait_until(snoozed_until)
    madrid = until.astimezone(ZoneInfo("Europe/Madrid"))
    tomorrow = datetime.now(ZoneInfo("Europe/Madrid")).date() + timedelta(days=1)
    assert (madrid.date(), madrid.hour, madrid.minute) == (tomorrow, 9, 0)

    # The agent goes away from the header menu, without leaving the page.
    page.get_by_role("button", name=re.compile("Luis Ortega")).click()
    page.get_by_role("menuitemradio", name="Away").click()

    def status():
        with tenant_context(tenant):
            return User.objects.get(pk=agent.pk).status

    assert wait_until(lambda: status() == "away")
    assert page.evaluate("window.__sameDocument") is True
    assert dialogs == []


def test_history_pages_back_and_a_restart_loses_nothing(make_tenant, daphne, new_page):
    tenant = make_tenant(slug="acme", company_name="Acme")
    agent = AgentFactory(tenant=tenant, name="Luis Ortega")
    chat = new_conversation(
        tenant, name="Ana Souza", messages=[f"Message {n}" for n in range(1, 121)]
    )

    page = new_page()
    # The old link to the conversation lands on its ticket.
    sign_in_to_inbox(
        page,
        tenant,
        daphne.port,
        agent,
        path=f"/inbox/c/{chat}/",
        lands_on=f"/inbox/tickets/{ticket_of(tenant, chat)}/",
    )
    thread = page.locator("#ib-message-list")
    thread.get_by_text("Message 120", exact=True).wait_for()
    assert thread.get_by_text("Message 1", exact=True).count() == 0

    # Scrolling up fetches the earlier pages (before_seq) until the first message.
    scroller = page.locator("#ib-messages")
    for _ in range(10):
        if thread.get_by_text("Message 1", exact=True).count():
            break
        scroller.evaluate("el => { el.scrollTop = 0; }")
        page.wait_for_timeout(400)
    thread.get_by_text("Message 1", exact=True).wait_for()
    page.get_by_text("This is the start of your conversation with Ana Souza").wait_for()
    seqs = thread.locator("li[data-seq]").evaluate_all("els => els.map(e => e.dataset.seq)")
    assert seqs == [str(n) for n in range(1, 121)]

    # The server goes away; the customer writes meanwhile, and so does the agent.
    daphne.stop()
    page.locator('#ib-conn[data-state="waiting"]').wait_for()
    customer_says(tenant, chat, "Are you still there?")
    customer_says(tenant, chat, "Hello?")
    page.locator("#ib-input").fill("Yes! Sorry, one moment.")
    page.locator("#ib-input").press("Enter")
    page.locator(".ib-msg.is-pending", has_text="Sorry, one moment").wait_for()

    # Back: the inbox reconnects by itself, fetches what it missed and delivers the reply, once.
    daphne.start()
    page.locator('#ib-conn[data-state="open"]').wait_for(timeout=60_000)
    thread.get_by_text("Hello?", exact=True).wait_for()
    page.locator(".ib-msg-agent:not(.is-pending)", has_text="Sorry, one moment").wait_for(
        timeout=30_000
    )
    assert thread.get_by_text("Are you still there?", exact=True).count() == 1
    seqs = thread.locator("li[data-seq]").evaluate_all("els => els.map(e => e.dataset.seq)")
    assert seqs == [str(n) for n in range(1, 124)]
    assert stored(tenant, conversation_id=chat, sender_kind="agent") == ["Yes! Sorry, one moment."]


# ---- The screenshot in the README -----------------------------------------------------------


def _photo() -> bytes:
    """A small picture of a parcel for the screenshot, drawn here (no image files in the repo)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 320), (226, 232, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 230, 480, 320), fill=(203, 213, 225))
    draw.polygon([(120, 120), (260, 80), (380, 120), (240, 160)], fill=(222, 184, 135))
    draw.polygon([(120, 120), (240, 160), (240, 290), (120, 240)], fill=(196, 154, 108))
    draw.polygon([(240, 160), (380, 120), (380, 240), (240, 290)], fill=(176, 136, 92))
    draw.line([(190, 100), (310, 140), (310, 270)], fill=(240, 220, 190), width=10)
    draw.line([(262, 185), (300, 205), (290, 230), (320, 240)], fill=(90, 60, 40), width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _age(conversation, *, minutes: int) -> None:
    """Move a conversation, its messages and its ticket back in time (the screenshot's list
    isn't all "now")."""
    delta = timedelta(minutes=minutes)
    Conversation.objects.filter(pk=conversation.pk).update(
        last_activity_at=F("last_activity_at") - delta, created_at=F("created_at") - delta
    )
    Message.objects.filter(conversation=conversation).update(created_at=F("created_at") - delta)
    Ticket.objects.filter(conversations=conversation).update(
        last_activity_at=F("last_activity_at") - delta, created_at=F("created_at") - delta
    )


def _email_in(conversation, *, name: str, address: str, subject: str, text: str, n: int):
    """A customer's email on an email conversation, stored as ingestion would store it."""
    message = message_create(conversation=conversation, sender_kind="customer", body=text).message
    EmailMessage.objects.create(
        message=message,
        direction="in",
        message_id_header=f"<screenshot-{n}@mail.example>",
        from_address=address,
        from_name=name,
        to=["support@acme-outdoor.example"],
        subject=subject,
        html=f"<p>{text}</p>",
        quoted_text="",
        delivery_status="received",
    )
    return message


def test_inbox_screenshot(make_tenant, daphne, new_page):
    tenant = make_tenant(slug="acme", company_name="Acme Outdoor")
    agent = AgentFactory(tenant=tenant, name="Luis Ortega", timezone="Europe/Madrid")
    mei = AgentFactory(tenant=tenant, name="Mei Chen", status="online")

    def scene():
        with tenant_context(tenant):
            # (minutes ago, name, email, country, channel, subject, text, assignee, priority, tags)
            others = [
                (
                    4,
                    "Tom Becker",
                    "tom@example.de",
                    "DE",
                    "email",
                    "Trail 2 tent in green?",
                    "Hi, is the Trail 2 tent available in green? I'd need it by Friday.",
                    None,
                    "normal",
                    ["pre-sale"],
                ),
                (
                    38,
                    "Priya Nair",
                    "priya@example.in",
                    "IN",
                    "web",
                    "",
                    "Thanks, that fixed it!",
                    agent,
                    "normal",
                    [],
                ),
                (
                    95,
                    "Lucas Martin",
                    "lucas@example.fr",
                    "FR",
                    "email",
                    "Change of delivery address, order #4398",
                    "Can I still change the delivery address of order #4398?",
                    None,
                    "high",
                    ["address-change"],
                ),
                (
                    260,
                    "Emma Wilson",
                    "emma@example.co.uk",
                    "GB",
                    "web",
                    "",
                    "Is the 30% discount still on?",
                    mei,
                    "low",
                    ["discount"],
                ),
                (
                    340,
                    "Sofia Rossi",
                    "sofia@example.it",
                    "IT",
                    "email",
                    "Refund for returned boots",
                    "I sent the boots back two weeks ago and haven't had my refund yet.",
                    mei,
                    "urgent",
                    ["refund", "returns", "vip"],
                ),
            ]
            for n, (
                age,
                name,
                email,
                country,
                channel,
                subject,
                text,
                assignee,
                priority,
                tags,
            ) in enumerate(others):
                contact = Contact.objects.create(name=name, email=email, country=country)
                conversation = ConversationFactory(
                    contact=contact, channel=channel, subject=subject, assignee=assignee
                )
                if channel == "email":
                    _email_in(
                        conversation, name=name, address=email, subject=subject, text=text, n=n
                    )
                else:
                    message_create(conversation=conversation, sender_kind="customer", body=text)
                Ticket.objects.filter(conversations=conversation).update(
                    priority=priority, tags=tags
                )
                _age(conversation, minutes=age)
            contact = Contact.objects.create(
                name="Ana Souza",
                email="ana.souza@example.com",
                identity_verified=True,
                external_id="cust_4411",
                country="BR",
                language="pt-BR",
                timezone="America/Sao_Paulo",
                last_page_url="https://shop.acme-outdoor.example/orders/4411",
                last_page_title="Order #4411 · Acme Outdoor",
                last_referrer="https://www.google.com/",
                last_user_agent=(
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
                    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
                ),
            )
            old = ConversationFactory(contact=contact)
            message_create(conversation=old, sender_kind="customer", body="Do you ship to Brazil?")
            message_create(
                conversation=old, sender_kind="agent", sender_agent=mei, body="We do, in 5-7 days."
            )
            Conversation.objects.filter(pk=old.pk).update(status=Conversation.Status.RESOLVED)
            Ticket.objects.filter(conversations=old).update(status=Ticket.Status.SOLVED)
            # Ana wrote by email first, then came to the chat: one ticket, two conversations.
            mail = ConversationFactory(
                contact=contact, channel="email", subject="Tent arrived damaged (order #4411)"
            )
            _email_in(
                mail,
                name="Ana Souza",
                address="ana.souza@example.com",
                subject="Tent arrived damaged (order #4411)",
                text="Hello, my tent arrived this morning and the box was crushed.",
                n=99,
            )
            _age(mail, minutes=40)
            ticket = Ticket.objects.get(conversations=mail)
            conversation = conversation_open(
                contact=contact,
                channel="web",
                on_ticket=ticket,
                started_context={
                    "fields": {"order": "#4411"},
                    "page_url": "https://shop.acme-outdoor.example/orders/4411",
                    "page_title": "Order #4411 · Acme Outdoor",
                    "referrer": "https://www.google.com/",
                },
            )
            ticket_assign(ticket=ticket, assignee_id=agent.pk, actor=agent)
            Ticket.objects.filter(pk=ticket.pk).update(priority="high", tags=["damaged", "carrier"])
            say = lambda kind, body, **kw: message_create(  # noqa: E731
                conversation=conversation, sender_kind=kind, body=body, **kw
            )
            say("customer", "Hi! My tent arrived today but the box was crushed.")
            photo = attachment_upload(
                conversation=conversation,
                upload=SimpleUploadedFile("parcel.png", _photo(), content_type="image/png"),
                uploaded_by_kind="customer",
            )
            say("customer", "One of the poles is bent. Order #4411.", attachment_ids=[photo.id])
            say(
                "agent",
                "I'm so sorry, Ana! Thanks for the photo, that helps a lot.",
                sender_agent=agent,
            )
            say(
                "agent",
                "Carrier damage, second one this week. Mei, can we send a replacement pole "
                "from the Madrid stock?",
                sender_agent=agent,
                is_internal=True,
            )
            say("agent", "Sure, it ships today.", sender_agent=mei, is_internal=True)
            say(
                "agent",
                "A replacement pole ships today by express, free of charge. You'll get the "
                "tracking link at https://shop.acme-outdoor.example/orders/4411",
                sender_agent=agent,
            )
            say("customer", "Wow, that was fast. Thank you so much!")
            conversation_read_by_visitor(conversation=conversation, seq=conversation.last_seq)
            _age(old, minutes=60 * 24 * 9)
            # A conversation over a quarter of an hour, as it would have happened.
            for message in Message.objects.filter(conversation=conversation):
                message.created_at -= timedelta(minutes=3 * (conversation.last_seq - message.seq))
                message.save(update_fields=["created_at"])
            return conversation.pk

    ana = in_thread(scene)

    page = new_page()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in_to_inbox(
        page,
        tenant,
        daphne.port,
        agent,
        path=f"/inbox/c/{ana}/",
        lands_on=f"/inbox/tickets/{ticket_of(tenant, ana)}/",
    )
    page.locator("#ib-message-list").get_by_text("Wow, that was fast").wait_for()
    page.locator("#ib-ticket-list .ib-channel-email").nth(3).wait_for()
    page.locator("#ib-conv-tabs [role=tab]").nth(1).wait_for()
    page.locator("#ib-customer-body").get_by_text("Order #4411 · Acme Outdoor").first.wait_for()
    page.locator("#ib-message-list img").evaluate("img => img.decode()")
    in_thread(
        lambda: async_to_sync(typing_from_visitor)(
            schema_name=tenant.schema_name, conversation_id=ana, is_typing=True
        )
    )
    page.get_by_text("Ana Souza is typing…").wait_for()
    for toast in page.locator(".toast-close").all():
        toast.click()
    page.mouse.move(0, 0)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000


# The browser's own Notification and OscillatorNode, wrapped to count what the inbox asks of
# them, and a switch that makes the page believe its tab went to the background.
ATTENTION_RECORDER = """
(() => {
  window.__notifications = [];
  window.__tones = 0;
  const RealNotification = window.Notification;
  if (RealNotification) {
    const Recorded = function (title, options) {
      window.__notifications.push({ title, body: options && options.body });
      return new RealNotification(title, options);
    };
    Recorded.requestPermission = (...args) => RealNotification.requestPermission(...args);
    Object.defineProperty(Recorded, "permission", { get: () => RealNotification.permission });
    window.Notification = Recorded;
  }
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__tones += 1;
    return start.apply(this, args);
  };
  let hidden = false;
  Object.defineProperty(document, "visibilityState", {
    get: () => (hidden ? "hidden" : "visible"),
  });
  Object.defineProperty(document, "hidden", { get: () => hidden });
  window.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();
"""


def test_a_hidden_tab_chimes_and_notifies_on_a_customer_message(make_tenant, daphne, new_page):
    tenant = make_tenant(slug="acme", company_name="Acme")
    agent = AgentFactory(tenant=tenant, name="Luis Ortega")
    conversation = new_conversation(tenant, name="Ana Souza", messages=["Hello"])
    page = new_page()
    origin = f"http://{host_of(tenant)}:{daphne.port}"
    page.context.grant_permissions(["notifications"], origin=origin)
    page.add_init_script(ATTENTION_RECORDER)
    sign_in_to_inbox(page, tenant, daphne.port, agent)
    # Browsers allow sound only after the person touched the page.
    page.locator("body").click(position={"x": 5, "y": 5})

    customer_says(tenant, conversation, "Are you there?")
    page.get_by_role("listitem").filter(has_text="Are you there?").first.wait_for()
    visible_count = page.evaluate("[window.__notifications.length, window.__tones]")

    page.evaluate("window.__setHidden(true)")
    customer_says(tenant, conversation, "Hello?? My parcel is lost")
    page.wait_for_function("window.__notifications.length > 0")
    notes = page.evaluate("window.__notifications")
    tones = page.evaluate("window.__tones")

    assert visible_count == [0, 0]  # nothing while the agent is looking
    assert len(notes) == 1
    assert "Ana Souza" in notes[0]["title"] and "My parcel is lost" in notes[0]["body"]
    assert tones >= 1
    assert page.title().startswith("(")
