"""Merging two contacts from the inbox's customer panel, in real Chromium against a real daphne:
the dialog finds the other contact, says plainly what will happen and in which direction, and
the merge is stored; the server's refusal (two verified shoppers) shows in the dialog and
changes nothing; customer-supplied names in the results stay text.

Data is written in a thread of its own (tests/browser/test_inbox.py explains why).
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from helpdesk.contacts.models import Contact
from helpdesk.tickets.models import Ticket
from tests.browser.test_inbox import in_thread, sign_in_to_inbox, wait_until
from tests.browser.test_ticket_inbox import open_ticket, ticket_in, ticket_row
from tests.factories import AgentFactory

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

XSS_NAME = "<img src=x onerror=window.__pwned=1>"


def contact_in(tenant, **fields) -> int:
    def write():
        with tenant_context(tenant):
            return Contact.objects.create(**fields).pk

    return in_thread(write)


def contacts_state(tenant) -> dict[int, list[int]]:
    """Each contact's id with the ids of the tickets they are the requester of."""

    def read():
        with tenant_context(tenant):
            owned: dict[int, list[int]] = {
                pk: [] for pk in Contact.objects.values_list("pk", flat=True)
            }
            for ticket, requester in Ticket.objects.order_by("pk").values_list(
                "pk", "requester_id"
            ):
                owned.setdefault(requester, []).append(ticket)
            return owned

    return in_thread(read)


def open_customer_panel(page):
    """At this window width the customer panel is a drawer behind the header's toggle."""
    page.get_by_role("button", name="Customer details").click()
    panel = page.locator("#ib-customer")
    panel.locator(".ib-cp-name").wait_for()
    return panel


def test_two_contacts_of_one_person_become_one_from_the_customer_panel(
    make_tenant, daphne, new_page
):
    tenant = make_tenant(slug="acme", company_name="Acme")
    agent = AgentFactory(tenant=tenant, name="Luis Ortega")
    ana_s = contact_in(tenant, name="Ana S.", email="ana.s@shop.example")
    ana_silva = contact_in(tenant, name="Ana Silva", email="ana@example.com", phone="+55 11")
    hostile = contact_in(tenant, name=XSS_NAME, email="ana.x@example.com")
    chat = ticket_in(tenant, name="", text="Where's order 4411?", contact_id=ana_s)
    mail = ticket_in(
        tenant,
        name="",
        channel="email",
        subject="Order 4411",
        text="Any news on my order?",
        contact_id=ana_silva,
    )
    before = contacts_state(tenant)
    assert before == {ana_s: [chat], ana_silva: [mail], hostile: []}

    page = new_page()
    sign_in_to_inbox(page, tenant, daphne.port, agent)
    open_ticket(page, chat)
    panel = open_customer_panel(page)
    assert panel.locator(".ib-cp-name").inner_text() == "Ana S."
    panel.get_by_role("button", name="Merge with another contact…").click()

    dialog = page.get_by_role("dialog", name="Merge Ana S. with another contact")
    search = dialog.get_by_label("Find the other contact")
    assert search.evaluate("el => el === document.activeElement")
    search.fill("ana")
    options = dialog.locator(".ib-cmerge-option")
    options.filter(has_text="Ana Silva").wait_for()
    options.filter(has_text="ana.x@example.com").wait_for()
    # The contact being merged is not offered to merge with itself.
    assert options.count() == 2
    assert dialog.locator("#ib-cmerge-results").evaluate("el => el.childNodes.length") == 2
    assert options.filter(has_text="ana.s@shop.example").count() == 0
    # A name made of markup is shown as those characters and does nothing.
    assert dialog.get_by_text(XSS_NAME, exact=True).is_visible()
    assert page.locator("#ib-contact-merge-dialog img").count() == 0
    assert page.evaluate("window.__pwned") is None

    options.filter(has_text="Ana Silva").locator("input").check()
    summary = dialog.locator("#ib-cmerge-summary")
    assert summary.inner_text() == (
        "Ana Silva (ana@example.com) and all their conversations and tickets will be merged "
        "into Ana S. (ana.s@shop.example). This can't be undone."
    )
    # The other way round: this contact goes into the other, which stays.
    dialog.get_by_label("Keep the other: Ana Silva (ana@example.com)").check()
    assert summary.inner_text() == (
        "Ana S. (ana.s@shop.example) and all their conversations and tickets will be merged "
        "into Ana Silva (ana@example.com). This can't be undone."
    )
    assert contacts_state(tenant) == before  # nothing happens before the confirmation
    # Enter confirms.
    dialog.get_by_label("Keep the other: Ana Silva (ana@example.com)").press("Enter")

    # One contact owns both tickets; the other is gone.
    assert wait_until(lambda: contacts_state(tenant) == {ana_silva: [chat, mail], hostile: []})
    dialog.wait_for(state="hidden")
    # The panel shows the kept contact, with what the merge filled in and their other ticket.
    panel.locator(".ib-cp-name", has_text="Ana Silva").wait_for()
    assert "ana@example.com" in panel.inner_text()
    assert "+55 11" in panel.inner_text()
    panel.locator(".ib-prev", has_text=f"#{ticket_row(tenant, mail).number}").wait_for()
    assert ticket_row(tenant, chat).requester_id == ana_silva
    assert page.evaluate("window.__pwned") is None


def test_two_verified_shoppers_are_refused_in_the_dialog_and_nothing_changes(
    make_tenant, daphne, new_page
):
    tenant = make_tenant(slug="acme", company_name="Acme")
    agent = AgentFactory(tenant=tenant, name="Luis Ortega")
    first = contact_in(
        tenant, name="Ana Lima", email="ana@example.com", identity_verified=True, external_id="41"
    )
    second = contact_in(
        tenant, name="Ana Lima", email="lima@example.com", identity_verified=True, external_id="42"
    )
    chat = ticket_in(tenant, name="", text="Hi, it's Ana", contact_id=first)
    other_chat = ticket_in(tenant, name="", text="Hello from the other Ana", contact_id=second)
    before = contacts_state(tenant)
    assert before == {first: [chat], second: [other_chat]}

    page = new_page()
    sign_in_to_inbox(page, tenant, daphne.port, agent)
    open_ticket(page, chat)
    panel = open_customer_panel(page)
    panel.get_by_role("button", name="Merge with another contact…").click()
    dialog = page.get_by_role("dialog", name="Merge Ana Lima with another contact")
    # Focus stays in the dialog: Tab wraps from its last control to its first and back.
    search = dialog.get_by_label("Find the other contact")
    search.press("Shift+Tab")
    assert dialog.get_by_role("button", name="Cancel").evaluate(
        "el => el === document.activeElement"
    )
    page.keyboard.press("Tab")
    assert search.evaluate("el => el === document.activeElement")
    search.fill("lima")
    option = dialog.locator(".ib-cmerge-option", has_text="lima@example.com")
    option.wait_for()
    assert option.locator(".ib-verified").is_visible()
    # The keyboard alone: down to the result, Enter picks it, Enter again merges.
    search.press("ArrowDown")
    page.keyboard.press("Enter")
    dialog.locator("#ib-cmerge-summary", has_text="This can't be undone.").wait_for()
    page.keyboard.press("Enter")

    dialog.get_by_role("alert").filter(
        has_text="Both contacts are verified store customers with different ids"
    ).wait_for()
    assert dialog.is_visible()
    assert contacts_state(tenant) == before
    assert panel.locator(".ib-cp-name").inner_text() == "Ana Lima"
    assert "ana@example.com" in panel.inner_text()

    # Escape closes the dialog, even from the search box with text in it; nothing changed.
    search.press("Escape")
    dialog.wait_for(state="hidden")
    assert contacts_state(tenant) == before
    # Only the dialog: the customer drawer it was opened from stays open.
    assert page.locator("#inbox").get_attribute("data-customer") == "open"
