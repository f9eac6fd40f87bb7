"""An email's own content for agents: its HTML body in a sandboxed frame, its raw message.

The HTML was sanitized at ingestion, and is still treated as hostile here: it is served as a
document of its own whose policy is `sandbox` (no script, an opaque origin, no forms) and which
may load nothing but inline styles and our own images, so a sanitizer miss runs nothing and a
tracking pixel stays unloaded until the agent asks for remote images (`?images=1`). The inbox
shows it in `<iframe sandbox>`, so the frame holds even where a browser ignores the header.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.html import escape
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from chat.models import EmailMessage
from chat.selectors.conversations import ConversationNotFound, conversation_access
from helpdesk.object_ids import object_id_parse
from tenants.agents.http import AgentRequest
from tenants.agents.models import User
from tenants.agents.permissions import agent_required

_HTML_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"
_DOCUMENT = (
    "<!DOCTYPE html>\n"
    '<html><head><meta charset="utf-8">'
    '<meta name="referrer" content="no-referrer">'
    "<title>{title}</title>"
    "<style>body{{margin:12px;font:14px/1.5 system-ui,sans-serif;color:#101828;"
    "overflow-wrap:anywhere}}img{{max-width:100%;height:auto}}</style>"
    "</head><body>{body}</body></html>"
)


def _email_for_agent(*, actor: User, message_id: object) -> EmailMessage:
    """The mail side of a message the agent may read: the conversation's access rule decides,
    so another workspace's message (or none at all) is the same 404."""
    pk = object_id_parse(message_id)
    email = (
        EmailMessage.objects.select_related("message").filter(message_id=pk).first()
        if pk is not None
        else None
    )
    if email is None:
        raise Http404
    try:
        conversation_access(actor=actor, conversation_id=email.message.conversation_id)
    except ConversationNotFound:
        raise Http404 from None
    return email


def _locked_down(response: HttpResponseBase) -> HttpResponseBase:
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    # The answer depends on who asks and is not worth keeping around.
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@xframe_options_sameorigin  # the inbox frames it; other sites may not
@agent_required
def chat_email_html(request: AgentRequest, message_id: int) -> HttpResponse:
    email = _email_for_agent(actor=request.user, message_id=message_id)
    if not email.html:
        raise Http404
    policy = _HTML_POLICY
    if request.GET.get("images") == "1":
        policy += " https: http:"
    document = _DOCUMENT.format(title=escape(email.subject), body=email.html)
    response = HttpResponse(document, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = policy
    _locked_down(response)
    return response


@require_GET
# agent_required is typed for HttpResponse views; a streamed file is the one exception here.
@agent_required  # type: ignore[arg-type]
def chat_email_raw(request: AgentRequest, message_id: int) -> FileResponse:
    email = _email_for_agent(actor=request.user, message_id=message_id)
    if not email.raw:
        raise Http404
    response = FileResponse(
        email.raw.open("rb"),
        as_attachment=True,
        filename=f"message-{email.message_id}.eml",
        content_type="message/rfc822",
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    _locked_down(response)
    return response
