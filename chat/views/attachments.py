"""Uploading and downloading chat attachments.

Downloads are checked on every request: the conversation's visitor (token in a header, so the
widget fetches a blob and no token ever sits in a URL) or an agent of the workspace (session).
Files go out as attachments (images inline) with nosniff and a sandboxing CSP, so even a file
that slipped through the type check could not run script on the workspace's origin.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from chat.models import Message
from chat.payloads import attachment_payload
from chat.rate_limits import RateLimited
from chat.selectors.attachments import (
    AttachmentNotFound,
    attachment_access_for_agent,
    attachment_access_for_visitor,
)
from chat.selectors.conversations import (
    ConversationNotFound,
    conversation_access,
)
from chat.services.attachments import attachment_upload, attachment_upload_by_visitor
from chat.visitor_tokens import visitor_token_contact
from tenants.agents.http import AgentRequest
from tenants.agents.permissions import agent_required
from tenants.http import TenantRequest

VISITOR_TOKEN_HEADER = "HTTP_X_VISITOR_TOKEN"


def _error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)


def _client_ip(request: TenantRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _file(request: TenantRequest):
    return request.FILES.get("file")


@csrf_exempt  # authenticated by the X-Visitor-Token header, which no other site can send
@require_POST
def visitor_attachment_upload(request: TenantRequest) -> JsonResponse:
    if request.tenant.is_public:
        raise Http404
    contact = visitor_token_contact(request.META.get(VISITOR_TOKEN_HEADER))
    if contact is None:
        return _error(401, "not_authenticated", "Your chat session has ended. Reload the page.")
    upload = _file(request)
    if upload is None:
        return _error(400, "no_file", "Choose a file to send.")
    try:
        attachment = attachment_upload_by_visitor(
            contact=contact, ip=_client_ip(request), upload=upload
        )
    except RateLimited as limited:
        return _error(
            429,
            "rate_limited",
            "You're sending too quickly. Please wait a moment.",
            retry_after=limited.retry_after,
        )
    except ValidationError as exc:
        status = 403 if exc.code == "widget_disabled" else 400
        return _error(status, exc.code or "invalid", exc.messages[0])
    return JsonResponse(attachment_payload(attachment), status=201)


@agent_required
@require_POST
def agent_attachment_upload(request: AgentRequest) -> JsonResponse:
    try:
        conversation = conversation_access(
            actor=request.user, conversation_id=request.POST.get("conversation_id")
        )
    except ConversationNotFound:
        return _error(404, "not_found", "No such conversation.")
    upload = _file(request)
    if upload is None:
        return _error(400, "no_file", "Choose a file to send.")
    try:
        attachment = attachment_upload(
            conversation=conversation,
            upload=upload,
            uploaded_by_kind=Message.SenderKind.AGENT,
            uploaded_by_agent=request.user,
        )
    except ValidationError as exc:
        return _error(400, exc.code or "invalid", exc.messages[0])
    return JsonResponse(attachment_payload(attachment), status=201)


@require_GET
def attachment_download(request: TenantRequest, attachment_id) -> FileResponse:
    if request.tenant.is_public:
        raise Http404
    user = getattr(request, "user", None)
    try:
        if user is not None and user.is_authenticated:
            attachment = attachment_access_for_agent(actor=user, attachment_id=attachment_id)
        else:
            contact = visitor_token_contact(request.META.get(VISITOR_TOKEN_HEADER))
            if contact is None:
                raise AttachmentNotFound
            attachment = attachment_access_for_visitor(contact=contact, attachment_id=attachment_id)
    except AttachmentNotFound:
        raise Http404 from None
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not attachment.is_image,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Private: the answer depends on who asks.
    response["Cache-Control"] = "private, max-age=3600"
    response["Vary"] = "Cookie, X-Visitor-Token"
    return response
