"""The agent inbox page: a shell the browser fills from the API and the agent socket.

The page renders no customer text on the server: conversations, messages and contact details
come as JSON and are drawn with textContent (static/js/inbox/), so one escaping rule covers the
live updates and the first paint alike.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from chat.selectors.conversations import ConversationNotFound, conversation_access
from chat.selectors.widget import widget_settings_get
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
def inbox(request: AgentRequest, conversation_id: int | None = None) -> HttpResponse:
    open_id = None
    if conversation_id is not None:
        try:
            open_id = conversation_access(actor=request.user, conversation_id=conversation_id).pk
        except ConversationNotFound:
            raise Http404 from None
    agent = request.user
    config = {
        "agent": {"id": agent.pk, "name": agent.name, "timezone": agent.timezone},
        "openConversationId": open_id,
        "prechatLabels": _prechat_labels(),
        "urls": {
            "inbox": reverse("inbox"),
            "conversationPage": reverse("inbox_conversation", args=[0]),
            # The page's JavaScript builds per-conversation URLs from the list's address.
            "conversations": reverse("api:conversation-list"),
            "agents": reverse("api:agent-list"),
            "cannedResponses": reverse("canned_response_search"),
            "upload": reverse("chat_agent_attachment_upload"),
            "socket": AGENT_SOCKET,
        },
    }
    return render(request, "chat/inbox/inbox.html", {"inbox_config": config})
