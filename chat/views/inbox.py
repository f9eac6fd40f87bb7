"""The agent inbox page: a shell the browser fills from the API and the agent socket.

The page renders no customer text on the server: tickets, messages and contact details come as
JSON and are drawn with textContent (static/js/inbox/), so one escaping rule covers the live
updates and the first paint alike. Filters live in the query string, read by the page itself.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from chat.selectors.conversations import ConversationNotFound, conversation_access
from chat.selectors.widget import widget_settings_get
from helpdesk.tickets.selectors import TicketNotFound, ticket_access
from helpdesk.tickets.services.status import TRANSITIONS
from tenants.agents.http import AgentRequest
from tenants.agents.permissions import agent_required

# The socket is routed outside the URLconf (helpdesk/realtime/routing.py).
AGENT_SOCKET = "/ws/agent/"


def _prechat_labels() -> dict[str, str]:
    """Pre-chat answers are stored by key; the customer panel shows the merchant's labels."""
    labels = {}
    for spec in widget_settings_get().custom_fields or []:
        if isinstance(spec, dict) and isinstance(spec.get("key"), str):
            labels[spec["key"]] = str(spec.get("label") or spec["key"])
    return labels


@agent_required
def inbox(request: AgentRequest, ticket_id: int | None = None) -> HttpResponse:
    open_id = None
    if ticket_id is not None:
        try:
            open_id = ticket_access(actor=request.user, ticket_id=ticket_id).pk
        except TicketNotFound:
            raise Http404 from None
    agent = request.user
    config = {
        "agent": {"id": agent.pk, "name": agent.name, "timezone": agent.timezone},
        "openTicketId": open_id,
        "prechatLabels": _prechat_labels(),
        # The ticket header enables only the statuses the service accepts from each status.
        "transitions": {status: sorted(allowed) for status, allowed in TRANSITIONS.items()},
        "urls": {
            "inbox": reverse("inbox"),
            "ticketPage": reverse("inbox_ticket", args=[0]),
            # The page's JavaScript builds per-object URLs from the lists' addresses.
            "tickets": reverse("api:ticket-list"),
            "conversations": reverse("api:conversation-list"),
            "agents": reverse("api:agent-list"),
            "cannedResponses": reverse("canned_response_search"),
            "upload": reverse("chat_agent_attachment_upload"),
            "socket": AGENT_SOCKET,
        },
    }
    return render(request, "chat/inbox/inbox.html", {"inbox_config": config})


@agent_required
def inbox_conversation(request: AgentRequest, conversation_id: int) -> HttpResponse:
    """Old links to one conversation open its ticket, with that conversation shown."""
    try:
        conversation = conversation_access(actor=request.user, conversation_id=conversation_id)
    except ConversationNotFound:
        raise Http404 from None
    if conversation.ticket_id is None:
        raise Http404
    target = reverse("inbox_ticket", args=[conversation.ticket_id])
    return HttpResponseRedirect(f"{target}?{urlencode({'conversation': conversation.pk})}")
