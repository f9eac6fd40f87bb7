"""The ticket inbox in real Chromium against a real daphne: filters and the address bar, ticket
edits stored and seen live by a second agent, merging, and email in the thread (quoted text,
the sandboxed HTML with remote images held back, hostile HTML, delivery states, warnings).

Data is written in a thread of its own (tests/browser/test_inbox.py explains why); services
broadcast through Redis to the daphne process, as ingestion or a worker would.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.core.files.base import ContentFile
from django.utils import timezone
from django_tenants.utils import tenant_context

from chat.email.outbound import email_deliver, email_reply_draft
from chat.models import Conversation, EmailMessage, Message
from chat.services.messages import message_create
from helpdesk.contacts.models import Contact
from helpdesk.tickets.models import Ticket
from tests.browser.test_inbox import in_thread, sign_in_to_inbox, wait_until
from tests.daphne import free_port
from tests.factories import AgentFactory, ConversationFactory

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

XSS = "<img src=x onerror=alert(1)>"
POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"
PIXEL = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


# ---- Data ------------------------------------------------------------------------------------


def ticket_in(
    tenant,
    *,
    name: str,
    text: str,
    email: str = "",
    channel: str = "web",
    subject: str = "",
    contact_id: int | None = None,
    **ticket_fields,
) -> int:
    """A ticket opened the way the product opens one (a chat, or an inbound email), with the
    customer's first message; `ticket_fields` (status, priority, tags, assignee) set after."""

    def write():
        with tenant_context(tenant):
            contact = (
                Contact.objects.get(pk=contact_id)
                if contact_id
                else Contact.objects.create(name=name, email=email)
            )
            conversation = ConversationFactory(contact=contact, channel=channel, subject=subject)
            message = message_create(
                conversation=conversation, sender_kind="customer", body=text
            ).message
            if channel == "email":
                EmailMessage.objects.create(
                    message=message,
                    direction="in",
                    message_id_header=f"<{message.pk}.{conversation.pk}@mail.example>",
                    from_address=contact.email,
                    from_name=contact.name,
                    to=["help@acme.example"],
                    subject=subject,
                    html=f"<p>{text}</p>",
                    delivery_status="received",
                )
            if ticket_fields:
                Ticket.objects.filter(conversations=conversation).update(**ticket_fields)
            return conversation.ticket_id

    return in_thread(write)


def ticket_row(tenant, ticket_id: int) -> Ticket:
    def read():
        with tenant_context(tenant):
            return Ticket.objects.select_related("assignee").get(pk=ticket_id)

    return in_thread(read)


def contact_of(tenant, ticket_id: int) -> int:
    return ticket_row(tenant, ticket_id).requester_id


def conversations_of(tenant, ticket_id: int) -> list[int]:
    def read():
        with tenant_context(tenant):
            return sorted(
                Conversation.objects.filter(ticket_id=ticket_id).values_list("pk", flat=True)
            )

    return in_thread(read)


def email_conversation(tenant, *, html: str, quoted: str = "", **email_fields):
    """Ana's email ticket with one inbound mail; returns (ticket id, conversation id)."""

    def write():
        with tenant_context(tenant):
            contact = Contact.objects.create(
                name="Ana Souza",
                email="ana@example.com",
                email_failing_since=email_fields.pop("failing_since", None),
            )
            conversation = ConversationFactory(
                contact=contact, channel="email", subject="Order 4411"
            )
            message = message_create(
                conversation=conversation, sender_kind="customer", body="Hello from Ana"
            ).message
            EmailMessage.objects.create(
                message=message,
                direction="in",
                message_id_header="<first@mail.example>",
                from_address="ana@example.com",
                from_name="Ana Souza",
                to=["help@acme.example"],
                subject="Order 4411",
                html=html,
                quoted_text=quoted,
                delivery_status="received",
                **email_fields,
            )
            return conversation.ticket_id, conversation.pk

    return in_thread(write)


def shown_ids(page) -> list[int]:
    ids = page.locator("#ib-ticket-list a.ib-conv").evaluate_all(
        "els => els.map(e => Number(e.dataset.id))"
    )
    return sorted(ids)


def open_ticket(page, ticket_id: int) -> None:
    page.locator(f'#ib-ticket-list a[data-id="{ticket_id}"]').click()
    page.wait_for_url(re.compile(rf"/inbox/tickets/{ticket_id}/(\?.*)?$"))


# ---- Filters ---------------------------------------------------------------------------------


def test_filters_narrow_the_list_and_live_in_the_address(make_tenant, daphne, new_page):
    tenant = make_tenant(slug="acme", company_name="Acme")
    agent = AgentFactory(tenant=tenant, name="Luis Ortega")
    vip_chat = ticket_in(
        tenant, name="Ana Souza", text="Where is my order?", priority="high", tags=["vip"]
    )
    refund_mail = ticket_in(
        tenant,
        name="Ben Carter",
        email="ben@example.com",
        channel="email",
        subject="Refund for order 4411",
        text="I'd like a refund.",
        tags=["refund"],
    )
    solved_mail = ticket_in(
        tenant,
        name="Cy Diaz",
        email="cy@example.com",
        channel="email",
        subject="Thanks!",
        text="All good now.",
        status="solved",
    )
    urgent_chat = ticket_in(
        tenant, name="Dana Ek", text="Charged twice!", priority="urgent", assignee=agent
    )
    active = sorted([vip_chat, refund_mail, urgent_chat])

    page = new_page()
    sign_in_to_inbox(page, tenant, daphne.port, agent)
    assert wait_until(lambda: shown_ids(page) == active)
    # Each row says what it is: channel, number, subject or preview, status, priority, tags.
    mail_row = page.locator(f'#ib-ticket-list a[data-id="{refund_mail}"]')
    assert mail_row.locator(".ib-channel-email").count() == 1
    assert mail_row.locator(".ib-channel-web").count() == 0
    number = ticket_row(tenant, refund_mail).number
    text = mail_row.inner_text()
    assert f"#{number}" in text and "Refund for order 4411" in text and "Ben Carter" in text
    urgent_row = page.locator(f'#ib-ticket-list a[data-id="{urgent_chat}"]')
    assert urgent_row.locator(".ib-priority-urgent").inner_text() == "Urgent"
    assert mail_row.locator(".ib-priority").count() == 0  # normal priority says nothing
    assert page.locator(f'a[data-id="{vip_chat}"] .ib-tag').all_inner_texts() == ["vip"]

    # Email only: the chats leave the list, and the address says so.
    page.get_by_label("Filter by channel").select_option("email")
    assert wait_until(lambda: shown_ids(page) == [refund_mail])
    assert "channel=email" in page.url

    # Solved email: the solved ticket, which the active list left out.
    page.get_by_label("Filter by status").select_option("solved")
    assert wait_until(lambda: shown_ids(page) == [solved_mail])
    assert re.search(r"[?&]status=solved", page.url) and "channel=email" in page.url

    # A reload keeps the filters.
    page.reload()
    page.locator('#ib-conn[data-state="open"]').wait_for()
    assert wait_until(lambda: shown_ids(page) == [solved_mail])
    assert page.get_by_label("Filter by status").input_value() == "solved"
    assert page.get_by_label("Filter by channel").input_value() == "email"

    # Nothing matches: the list says so and offers to clear the filters.
    page.get_by_label("Filter by priority").select_option("urgent")
    page.get_by_text("No tickets match these filters").wait_for()
    page.get_by_role("button", name="Clear filters").click()
    assert wait_until(lambda: shown_ids(page) == active)
    assert page.url.endswith("/inbox/")

    # Views and the assignee filter.
    page.get_by_role("button", name="Mine").click()
    assert wait_until(lambda: shown_ids(page) == [urgent_chat])
    assert "view=mine" in page.url
    page.get_by_role("button", name="Unassigned").click()
    assert wait_until(lambda: shown_ids(page) == sorted([vip_chat, refund_mail]))
    page.get_by_role("button", name="All").click()
    page.get_by_label("Filter by assignee").select_option(str(agent.pk))
    assert wait_until(lambda: shown_ids(page) == [urgent_chat])
    assert f"assignee={agent.pk}" in page.url
    page.get_by_label("Filter by assignee").select_option("")

    page.get_by_label("Filter by tag").select_option("refund")
    assert wait_until(lambda: shown_ids(page) == [refund_mail])
    assert "tag=refund" in page.url
    page.get_by_label("Filter by tag").select_option("")
    page.get_by_label("Filter by priority").select_option("urgent")
    assert wait_until(lambda: shown_ids(page) == [urgent_chat])
    assert "priority=urgent" in page.url
    page.get_by_label("Filter by priority").select_option("")
    assert wait_until(lambda: shown_ids(page) == active)

    # "/" goes to the search box (not while typing elsewhere); the search is in the address too.
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("/")
    search = page.get_by_label("Search tickets by subject, number or email")
    assert search.evaluate("el => el === document.activeElement")
    page.keyboard.type("refund")
    assert wait_until(lambda: shown_ids(page) == [refund_mail])
    assert search.input_value() == "refund"  # the keys went into the box, none was a shortcut
    assert "q=refund" in page.url
    page.keyboard.press("Escape")
    search.fill("")
    search.press("Enter")
    assert wait_until(lambda: shown_ids(page) == active)

    # j / k move through the list, Enter opens the ticket.
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("j")
    first = page.locator("#ib-ticket-list a.ib-conv").first
    assert first.evaluate("el => el === document.activeElement")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert first.evaluate("el => el === document.activeElement")
    first_id = int(first.get_attribute("data-id"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/inbox/tickets/{first_id}/$"))
    page.locator("#ib-ticket-number", has_text=f"#{ticket_row(tenant, first_id).number}").wait_for()


def test_the_list_pages_in_as_it_scrolls_and_follows_activity(make_tenant, daphne, new_page):
    tenant = make_tenant(slug="acme", company_name="Acme")
    agent = AgentFactory(tenant=tenant, name="Luis Ortega")

    def many():
        with tenant_context(tenant):
            ids = []
            for n in range(60):
                conversation = ConversationFactory(
                    contact=Contact.objects.create(name=f"Customer {n:02}")
                )
                message_create(conversation=conversation, sender_kind="customer", body=f"Hi {n}")
                ids.append(conversation.ticket_id)
            return ids

    tickets = in_thread(many)  # oldest first
    page = new_page()
    sign_in_to_inbox(page, tenant, daphne.port, agent)
    rows = page.locator("#ib-ticket-list a.ib-conv")
    rows.nth(49).wait_for()
    assert rows.count() == 50  # one page, the newest activity first
    assert int(rows.first.get_attribute("data-id")) == tickets[-1]

    # Scrolling to the end fetches the next page (the `next` link).
    page.locator("#ib-list-scroll").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    rows.nth(59).wait_for()
    assert shown_ids(page) == sorted(tickets)
    assert page.locator("#ib-list-more").is_hidden()

    # The customer of the oldest ticket writes: it moves to the top by itself.
    def customer_writes():
        with tenant_context(tenant):
            conversation = Conversation.objects.get(ticket_id=tickets[0])
            message_create(conversation=conversation, sender_kind="customer", body="Hello again")

    in_thread(customer_writes)
    assert wait_until(lambda: int(rows.first.get_attribute("data-id")) == tickets[0])
    assert "Hello again" in rows.first.inner_text()

    # Oldest activity first: the order turns around, and the address keeps it.
    page.get_by_label("Sort by").select_option("last_activity_at")
    assert wait_until(lambda: int(rows.first.get_attribute("data-id")) == tickets[1])
    assert "sort=last_activity_at" in page.url


# ---- Editing a ticket ------------------------------------------------------------------------


def test_ticket_edits_are_stored_and_reach_another_agent_live(make_tenant, daphne, new_page):
    tenant = make_tenant(slug="acme", company_name="Acme")
    luis = AgentFactory(tenant=tenant, name="Luis Ortega")
    mei = AgentFactory(tenant=tenant, name="Mei Chen")
    ticket = ticket_in(tenant, name="Ana Souza", text="Where is my order?")
    crowded = ticket_in(tenant, name="Ben Carter", text="Hi", tags=[f"t{n}" for n in range(20)])

    page = new_page()
    sign_in_to_inbox(page, tenant, daphne.port, luis)
    other = new_page()
    sign_in_to_inbox(other, tenant, daphne.port, mei)
    other.evaluate("window.__sameDocument = true")
    theirs = other.locator(f'#ib-ticket-list a[data-id="{ticket}"]')
    theirs.wait_for()

    open_ticket(page, ticket)
    status = page.get_by_label("Status", exact=True)
    # A new ticket may move anywhere but closed (closing comes after solving).
    assert page.locator("#ib-status option[value=closed]").is_disabled()
    assert not page.locator("#ib-status option[value=pending]").is_disabled()

    status.select_option("pending")
    assert wait_until(lambda: ticket_row(tenant, ticket).status == "pending")
    theirs.locator(".ib-status-pending").wait_for()

    page.get_by_label("Priority", exact=True).select_option("urgent")
    assert wait_until(lambda: ticket_row(tenant, ticket).priority == "urgent")
    theirs.locator(".ib-priority-urgent").wait_for()

    tag_box = page.get_by_label("Add a tag")
    tag_box.fill("VIP")
    tag_box.press("Enter")
    page.locator("#ib-tag-list .ib-tag-chip", has_text="vip").wait_for()
    tag_box.fill("late-delivery")
    tag_box.press("Enter")
    assert wait_until(lambda: ticket_row(tenant, ticket).tags == ["vip", "late-delivery"])
    theirs.locator(".ib-tag", has_text="late-delivery").wait_for()
    page.get_by_role("button", name="Remove tag vip").click()
    assert wait_until(lambda: ticket_row(tenant, ticket).tags == ["late-delivery"])
    theirs.locator(".ib-tag", has_text="vip").wait_for(state="detached")
    # A tag that isn't one word is refused where it is typed, and nothing is stored.
    tag_box.fill("two words")
    tag_box.press("Enter")
    page.locator("#ib-tag-error", has_text="one word").wait_for()
    assert ticket_row(tenant, ticket).tags == ["late-delivery"]

    page.get_by_label("Assignee", exact=True).select_option(str(mei.pk))
    assert wait_until(lambda: ticket_row(tenant, ticket).assignee_id == mei.pk)
    theirs.locator('.ib-owner[title="Assigned to you"]').wait_for()

    subject = page.get_by_label("Subject", exact=True)
    subject.fill(f"Order 4411 is late {XSS}")
    subject.press("Enter")
    assert wait_until(lambda: ticket_row(tenant, ticket).subject == f"Order 4411 is late {XSS}")
    theirs.get_by_text(f"Order 4411 is late {XSS}").wait_for()
    assert other.locator("#ib-ticket-list img").count() == 0

    # Solved: it leaves the other agent's Active list, by itself.
    status.select_option("solved")
    assert wait_until(lambda: ticket_row(tenant, ticket).status == "solved")
    theirs.wait_for(state="detached")
    assert page.locator("#ib-status option[value=new]").is_disabled()
    # Closed is final: the status can't be changed any more.
    status.select_option("closed")
    assert wait_until(lambda: ticket_row(tenant, ticket).status == "closed")
    page.locator("#ib-status:disabled").wait_for()
    assert other.evaluate("window.__sameDocument") is True

    # The server's refusal (too many tags) is shown under the editor; nothing changes.
    page.goto(page.url.replace(f"/tickets/{ticket}/", f"/tickets/{crowded}/"))
    page.locator("#ib-tag-list .ib-tag-chip").nth(19).wait_for()
    tag_box.fill("one-more")
    tag_box.press("Enter")
    page.locator("#ib-tag-error", has_text="At most 20 tags").wait_for()
    assert len(ticket_row(tenant, crowded).tags) == 20


# ---- Merging ---------------------------------------------------------------------------------


def test_merging_moves_the_conversation_and_both_tickets_say_so(make_tenant, daphne, new_page):
    tenant = make_tenant(slug="acme", company_name="Acme")
    agent = AgentFactory(tenant=tenant, name="Luis Ortega")
    chat = ticket_in(tenant, name="Ana Souza", email="ana@example.com", text="Where's 4411?")
    ana = contact_of(tenant, chat)
    mail = ticket_in(
        tenant,
        name="Ana Souza",
        channel="email",
        subject="Order 4411",
        text="Any news on my order?",
        contact_id=ana,
    )
    someone_else = ticket_in(tenant, name="Ben Carter", text="Do you ship to Canada?")
    chat_number = ticket_row(tenant, chat).number
    mail_number = ticket_row(tenant, mail).number
    [moved] = conversations_of(tenant, mail)
    [kept] = conversations_of(tenant, chat)

    page = new_page()
    sign_in_to_inbox(page, tenant, daphne.port, agent)
    open_ticket(page, mail)
    page.get_by_role("button", name="Merge into…").click()
    dialog = page.locator("#ib-merge-dialog")
    # The customer's other tickets come first; another customer's is not offered.
    dialog.get_by_text("Other tickets of Ana Souza").wait_for()
    dialog.locator(".ib-merge-option", has_text=f"#{chat_number}").wait_for()
    assert dialog.locator(".ib-merge-option").count() == 1
    # A number finds that ticket.
    dialog.get_by_label("Ticket number or search").fill(
        f"#{ticket_row(tenant, someone_else).number}"
    )
    dialog.locator(".ib-merge-option", has_text="Do you ship to Canada?").wait_for()
    dialog.get_by_label("Ticket number or search").fill(f"#{chat_number}")
    dialog.get_by_text("Matching tickets").wait_for()
    dialog.locator(".ib-merge-option", has_text=f"#{chat_number}").locator("input").check()
    dialog.get_by_text(f"#{mail_number} will be closed").wait_for()
    dialog.get_by_role("button", name=f"Merge into #{chat_number}").click()

    # Off to the ticket it went into, which now holds both conversations.
    page.wait_for_url(re.compile(rf"/inbox/tickets/{chat}/$"))
    assert wait_until(lambda: conversations_of(tenant, chat) == sorted([kept, moved]))
    merged = ticket_row(tenant, mail)
    assert (merged.merged_into_id, merged.status) == (chat, "closed")
    tabs = page.locator("#ib-conv-tabs [role=tab]")
    tabs.nth(1).wait_for()
    assert tabs.count() == 2
    # The moved email is the newest conversation: it is the one shown, named by its subject.
    email_tab = page.get_by_role("tab", name="Email · Order 4411")
    email_tab.wait_for()
    assert email_tab.get_attribute("aria-selected") == "true"
    page.locator("#ib-message-list").get_by_text("Any news on my order?").wait_for()
    page.locator(
        "#ib-ticket-banners", has_text=f"Ticket merged into this one: #{mail_number}"
    ).wait_for()

    # The chat tab shows the chat, and a reply from there goes to that conversation.
    page.get_by_role("tab", name=re.compile("^Chat")).click()
    page.locator("#ib-message-list").get_by_text("Where's 4411?").wait_for()
    page.locator("#ib-input").fill("Merged your email in here, Ana.")
    page.locator("#ib-input").press("Enter")

    def replies():
        with tenant_context(tenant):
            return list(
                Message.objects.filter(sender_kind="agent", is_internal=False).values_list(
                    "conversation_id", "body"
                )
            )

    assert wait_until(lambda: in_thread(replies) == [(kept, "Merged your email in here, Ana.")])

    # The merged ticket says where it went, and links there.
    page.locator("#ib-ticket-banners").get_by_role("link", name=f"#{mail_number}").click()
    page.wait_for_url(re.compile(rf"/inbox/tickets/{mail}/$"))
    banner = page.locator("#ib-ticket-banners", has_text="Merged into")
    banner.get_by_role("link", name=f"#{chat_number}").wait_for()
    assert page.locator("#ib-status").is_disabled()
    banner.get_by_role("link", name=f"#{chat_number}").click()
    page.wait_for_url(re.compile(rf"/inbox/tickets/{chat}/$"))


# ---- Email in the thread ---------------------------------------------------------------------


class PixelServer:
    """A tiny HTTP server on 127.0.0.1 standing in for a sender's tracking pixel; it counts hits."""

    def __init__(self):
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PIXEL)))
                self.end_headers()
                self.wfile.write(PIXEL)

            def log_message(self, *args):
                pass

        self.hits = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pixel.png"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _frame_response(page, action, *, images: bool):
    wanted = "?images=1" if images else "/html/"

    def is_frame(response):
        return "/inbox/email/" in response.url and response.url.endswith(wanted)

    with page.expect_response(is_frame) as caught:
        action()
    response = caught.value
    response.frame.wait_for_load_state("load")
    return response


def test_email_html_shows_sandboxed_and_remote_images_wait_for_the_agent(
    make_tenant, daphne, new_page
):
    tenant = make_tenant(slug="acme", company_name="Acme")
    agent = AgentFactory(tenant=tenant, name="Luis Ortega")
    with PixelServer() as pixel:
        ticket, _ = email_conversation(
            tenant,
            html=f'<p id="letter">Hello from Ana, in <b>HTML</b></p><img src="{pixel.url}">',
            quoted="On Mon, Luis wrote:\n> Your order has shipped.",
            has_remote_images=True,
        )

        page = new_page()
        sign_in_to_inbox(page, tenant, daphne.port, agent)
        open_ticket(page, ticket)
        letter = page.locator(".ib-msg-email", has_text="Hello from Ana")
        letter.wait_for()
        assert "Ana Souza <ana@example.com>" in letter.locator(".ib-email-head").inner_text()
        # The same subject as the ticket's is not repeated on the letter.
        assert letter.locator(".ib-email-subject").count() == 0
        # Nothing of the HTML is fetched before the agent asks for it.
        assert page.locator("iframe").count() == 0

        # Quoted history is behind a toggle, shown as text.
        quoted = letter.locator(".ib-quoted")
        assert quoted.is_hidden()
        letter.get_by_role("button", name="Show quoted text").click()
        assert quoted.inner_text() == "On Mon, Luis wrote:\n> Your order has shipped."
        assert quoted.evaluate("el => getComputedStyle(el).whiteSpace") == "pre-wrap"

        # The original HTML: a sandboxed frame whose policy holds remote images back.
        plain = _frame_response(
            page,
            lambda: letter.get_by_role("button", name="View original (HTML)").click(),
            images=False,
        )
        frame = page.locator("iframe.ib-email-frame")
        assert frame.get_attribute("sandbox") == ""
        assert plain.headers["content-security-policy"] == POLICY
        assert plain.headers["x-frame-options"] == "SAMEORIGIN"
        page.frame_locator("iframe.ib-email-frame").locator("#letter b").wait_for()
        assert pixel.hits == []

        # Asked for: the frame reloads allowing remote images, and the pixel is fetched.
        with_images = _frame_response(
            page,
            lambda: letter.get_by_role("button", name="Load remote images").click(),
            images=True,
        )
        assert with_images.headers["content-security-policy"] == f"{POLICY} https: http:"
        assert page.locator("iframe.ib-email-frame").get_attribute("sandbox") == ""
        assert wait_until(lambda: pixel.hits == ["/pixel.png"])


HOSTILE_HTML = (
    '<p id="marker">inert</p>'
    "<img src=x onerror=\"document.getElementById('marker').textContent='PWNED';"
    "parent.__pwned=1;alert('img')\">"
    "<script>document.getElementById('marker').textContent='PWNED';"
    "parent.__pwned=2;alert('script')</script>"
    "<svg onload=\"document.getElementById('marker').textContent='PWNED';alert('svg')\"></svg>"
    "<a id=\"js\" href=\"javascript:document.getElementById('marker').textContent='PWNED'\">"
    "click me</a>"
)


def test_hostile_email_html_does_not_run(make_tenant, daphne, new_page):
    tenant = make_tenant(slug="acme", company_name="Acme")
    agent = AgentFactory(tenant=tenant, name="Luis Ortega")
    # Saved raw, as if the sanitizer had missed it.
    ticket, _ = email_conversation(tenant, html=HOSTILE_HTML, has_remote_images=True)

    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in_to_inbox(page, tenant, daphne.port, agent)
    open_ticket(page, ticket)
    letter = page.locator(".ib-msg-email", has_text="Hello from Ana")
    _frame_response(
        page,
        lambda: letter.get_by_role("button", name="View original (HTML)").click(),
        images=False,
    )
    inside = page.frame_locator("iframe.ib-email-frame")
    inside.locator("#js").click()
    # Remote images allowed changes nothing for scripts: the sandbox still holds.
    _frame_response(
        page,
        lambda: letter.get_by_role("button", name="Load remote images").click(),
        images=True,
    )
    inside.locator("#js").click()

    assert inside.locator("#marker").inner_text() == "inert"
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []


def test_email_replies_show_delivery_and_the_address_warnings(
    make_tenant, daphne, new_page, isolated_media, settings
):
    tenant = make_tenant(slug="acme", company_name="Acme")
    agent = AgentFactory(tenant=tenant, name="Luis Ortega")
    ticket, conversation = email_conversation(
        tenant, html="", failing_since=timezone.now(), auto_submitted=False
    )

    def mail_trouble():
        with tenant_context(tenant):
            convo = Conversation.objects.select_related("contact").get(pk=conversation)
            out_of_office = message_create(
                conversation=convo, sender_kind="customer", body="I'm out of the office."
            ).message
            broken = EmailMessage.objects.create(
                message=out_of_office,
                direction="in",
                message_id_header="<ooo@mail.example>",
                from_address="ana@example.com",
                from_name="Ana Souza",
                subject="Automatic reply: Order 4411",
                auto_submitted=True,
                parse_error="Missing MIME boundary",
                delivery_status="received",
            )
            broken.raw.save("ooo.eml", ContentFile(b"Subject: Automatic reply\r\n\r\nbroken"))
            return broken.message_id

    broken_id = in_thread(mail_trouble)

    page = new_page()
    sign_in_to_inbox(page, tenant, daphne.port, agent)
    open_ticket(page, ticket)
    thread = page.locator("#ib-message-list")
    out_of_office = thread.locator(".ib-msg-email", has_text="I'm out of the office.")
    out_of_office.locator(".ib-auto-tag", has_text="auto-reply").wait_for()
    warning = out_of_office.locator(".ib-email-warning")
    assert warning.inner_text().startswith(
        "This email could not be read completely: Missing MIME boundary"
    )
    download = warning.get_by_role("link", name="Download the original message")
    assert download.get_attribute("href") == f"/inbox/email/{broken_id}/raw/"
    # A subject other than the ticket's shows on the letter.
    assert "Automatic reply: Order 4411" in out_of_office.locator(".ib-email-head").inner_text()
    # The address bounced before: said in the customer panel and above the reply box.
    page.locator("#ib-compose-notes").get_by_text("Reply by email to ana@example.com").wait_for()
    page.locator("#ib-compose-notes").get_by_text("Mail to this address bounced.").wait_for()
    page.get_by_role("button", name="Customer details").click()
    page.locator(
        "#ib-customer-body .ib-cp-warning", has_text="Mail to this address bounced"
    ).wait_for()
    page.keyboard.press("Escape")

    # The agent replies from the same composer; the reply goes out and says it was sent.
    page.locator("#ib-input").fill("We're on it, Ana.")
    page.locator("#ib-input").press("Enter")
    sent = thread.locator(".ib-msg-agent.ib-msg-email", has_text="We're on it, Ana.")
    sent.locator(".ib-delivery-sent", has_text="Sent").wait_for()

    # A reply the mail server refuses: queued first, then failed with the reason, in place.
    class Refusing:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 Mailbox unavailable"

    controller = Controller(Refusing(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = controller.port

        def queue_reply():
            with tenant_context(tenant):
                convo = Conversation.objects.select_related("contact").get(pk=conversation)
                draft = email_reply_draft(conversation=convo)
                message_create(
                    conversation=convo,
                    sender_kind="agent",
                    sender_agent=agent,
                    body="Your refund is on its way.",
                    email=draft,
                )
                return draft.pk

        email_id = in_thread(queue_reply)
        refund = thread.locator(".ib-msg-email", has_text="Your refund is on its way.")
        refund.locator(".ib-delivery-queued", has_text="Queued").wait_for()

        def deliver():
            with tenant_context(tenant):
                return email_deliver(email_id=email_id, final_attempt=True)

        assert in_thread(deliver) == "failed"
    finally:
        controller.stop()
    failed = refund.locator(".ib-delivery-failed")
    failed.wait_for()
    assert "550 5.1.1 Mailbox unavailable" in failed.inner_text()
    assert "550 5.1.1 Mailbox unavailable" in failed.get_attribute("title")
    # Replaced in place: one letter, not a second copy.
    assert thread.locator(".ib-msg-email", has_text="Your refund is on its way.").count() == 1
