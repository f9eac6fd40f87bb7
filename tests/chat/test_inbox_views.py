"""The inbox page: who may open it, deep links to tickets (and old ones to conversations), and
nothing a customer wrote rendered as HTML."""

from __future__ import annotations

import json
import re

import pytest
from django_tenants.utils import tenant_context

from chat.models import Conversation
from chat.selectors.widget import widget_settings_get
from helpdesk.contacts.models import Contact
from helpdesk.tickets.models import Ticket
from tests.chat.api_helpers import conversation_in, messages_in
from tests.factories import AgentFactory
from tests.tenants.agents.clients import client_for, owner_of, signed_in

pytestmark = pytest.mark.django_db

XSS = "<img src=x onerror=alert(1)>"
XSS_LINK = "[x](javascript:alert(1))"


def _config(response) -> dict:
    match = re.search(
        rb'<script id="inbox-config" type="application/json">(.*?)</script>', response.content
    )
    assert match, "the page carries its configuration"
    return json.loads(match.group(1))


def test_the_inbox_opens_for_an_agent_with_its_configuration(tenant):
    agent = AgentFactory(tenant=tenant, name="Luis Ortega", timezone="Europe/Madrid")

    response = signed_in(tenant, agent).get("/inbox/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="inbox"' in html
    assert "js/inbox.js" in html and "css/inbox.css" in html
    config = _config(response)
    assert config["agent"] == {"id": agent.pk, "name": "Luis Ortega", "timezone": "Europe/Madrid"}
    assert config["openTicketId"] is None
    assert config["urls"]["tickets"] == "/api/v1/tickets/"
    assert config["urls"]["ticketPage"] == "/inbox/tickets/0/"
    assert config["urls"]["conversations"] == "/api/v1/conversations/"
    assert config["urls"]["upload"] == "/inbox/attachments/"
    assert config["urls"]["cannedResponses"] == "/inbox/canned-responses.json"
    # The status select offers what the service accepts: closed is final, nothing returns to new.
    assert config["transitions"]["closed"] == []
    assert "new" not in config["transitions"]["open"]
    assert "closed" in config["transitions"]["solved"]


def test_inbox_is_the_first_sidebar_entry_and_current_on_its_pages(tenant):
    owner = owner_of(tenant)
    conversation = conversation_in(tenant)
    client = signed_in(tenant, owner)

    for path in ("/inbox/", f"/inbox/tickets/{conversation.ticket_id}/"):
        html = client.get(path).content.decode()
        nav = html.split('<nav class="nav">', 1)[1].split("</nav>", 1)[0]
        links = re.findall(r'<a href="([^"]+)" class="nav-item( is-current)?"', nav)
        # Home, then Inbox first among the sections, shown as the current page.
        assert links[1] == ("/inbox/", " is-current")


def test_the_dashboard_leads_to_the_inbox_with_open_counts(tenant):
    owner = owner_of(tenant)
    conversation_in(tenant, name="Ana")
    conversation_in(tenant, name="Ben", assignee=owner)
    conversation_in(tenant, name="Cy", status=Conversation.Status.RESOLVED)

    html = signed_in(tenant, owner).get("/").content.decode()

    card = html.split('<a class="card stat-card" href="/inbox/">', 1)[1].split("</a>", 1)[0]
    assert "Open conversations" in card
    assert '<span class="stat-value">2</span>' in card
    assert "1 unassigned · 1 assigned to you" in card


def test_anonymous_visitors_are_sent_to_sign_in(tenant):
    conversation = conversation_in(tenant)

    for path in (
        "/inbox/",
        f"/inbox/tickets/{conversation.ticket_id}/",
        f"/inbox/c/{conversation.pk}/",
    ):
        response = client_for(tenant).get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_a_deep_link_opens_that_ticket(tenant):
    conversation = conversation_in(tenant)

    response = signed_in(tenant, owner_of(tenant)).get(f"/inbox/tickets/{conversation.ticket_id}/")

    assert response.status_code == 200
    assert _config(response)["openTicketId"] == conversation.ticket_id


def test_an_old_conversation_link_leads_to_its_ticket_showing_that_conversation(tenant):
    conversation = conversation_in(tenant)

    response = signed_in(tenant, owner_of(tenant)).get(f"/inbox/c/{conversation.pk}/")

    assert response.status_code == 302
    assert response["Location"] == (
        f"/inbox/tickets/{conversation.ticket_id}/?conversation={conversation.pk}"
    )


def test_deep_links_to_another_workspaces_ticket_or_conversation_are_not_found(
    tenant, other_tenant
):
    theirs = conversation_in(other_tenant, name="Globex customer")
    with tenant_context(tenant):
        assert not Conversation.objects.filter(pk=theirs.pk).exists()
        assert not Ticket.objects.filter(pk=theirs.ticket_id).exists()
    client = signed_in(tenant, owner_of(tenant))

    for path in (f"/inbox/tickets/{theirs.ticket_id}/", f"/inbox/c/{theirs.pk}/"):
        response = client.get(path)
        assert response.status_code == 404
        assert b"Globex customer" not in response.content
    # The same pages in their own workspace open, so the 404 is the boundary, not a broken link.
    own = signed_in(other_tenant, owner_of(other_tenant))
    assert own.get(f"/inbox/tickets/{theirs.ticket_id}/").status_code == 200
    assert own.get(f"/inbox/c/{theirs.pk}/").status_code == 302


@pytest.mark.parametrize("object_id", ["999999", "0", "99999999999999999999"])
def test_unknown_ids_are_not_found(tenant, object_id):
    client = signed_in(tenant, owner_of(tenant))

    assert client.get(f"/inbox/tickets/{object_id}/").status_code == 404
    assert client.get(f"/inbox/c/{object_id}/").status_code == 404


def test_customer_text_never_reaches_the_page_as_html(tenant):
    conversation = conversation_in(tenant, name=XSS)
    messages_in(tenant, conversation, [XSS, XSS_LINK])
    with tenant_context(tenant):
        settings = widget_settings_get()
        settings.custom_fields = [{"key": "order", "label": f"Order {XSS}", "required": False}]
        settings.save(update_fields=["custom_fields"])
        Contact.objects.filter(pk=conversation.contact_id).update(
            last_page_url="javascript:alert(1)"
        )
        Ticket.objects.filter(pk=conversation.ticket_id).update(subject=XSS, tags=["x"])

    response = signed_in(tenant, owner_of(tenant)).get(f"/inbox/tickets/{conversation.ticket_id}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<img src=x" not in html
    assert "javascript:" not in html
    # The merchant's own label travels as JSON text, drawn later with textContent.
    assert _config(response)["prechatLabels"] == {"order": f"Order {XSS}"}


def test_inbox_page_queries_do_not_grow_with_the_inbox(tenant, django_assert_max_num_queries):
    owner = owner_of(tenant)
    client = signed_in(tenant, owner)
    first = conversation_in(tenant)
    client.get("/inbox/")  # warm per-process caches (content types, settings rows)
    for n in range(20):
        conversation = conversation_in(tenant, name=f"Customer {n}")
        messages_in(tenant, conversation, ["Hello", "Anyone there?"])

    # Counts include django-tenants' "SET search_path" before each query.
    with django_assert_max_num_queries(10):
        listing = client.get("/inbox/")
    with django_assert_max_num_queries(12):
        deep_link = client.get(f"/inbox/tickets/{first.ticket_id}/")
    with django_assert_max_num_queries(10):
        old_link = client.get(f"/inbox/c/{first.pk}/")

    assert listing.status_code == deep_link.status_code == 200
    assert old_link.status_code == 302
