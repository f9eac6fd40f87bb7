"""Accepting chat attachments: images and PDF only, recognised from their bytes, size-limited."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from chat.models import Attachment, Conversation, Message
from chat.rate_limits import RateLimited, visitor_message_allowed
from chat.selectors.conversations import visitor_conversation_current
from chat.selectors.widget import widget_settings_get
from helpdesk.contacts.models import Contact
from tenants.agents.models import User


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str


# Signatures checked against the first bytes; the browser's Content-Type and the file name are
# never trusted (an .html renamed .png is refused, a PNG named .html is stored as a PNG).
_SIGNATURES: list[tuple[bytes, int, FileKind]] = [
    (b"\x89PNG\r\n\x1a\n", 0, FileKind("image/png", "png")),
    (b"\xff\xd8\xff", 0, FileKind("image/jpeg", "jpg")),
    (b"GIF87a", 0, FileKind("image/gif", "gif")),
    (b"GIF89a", 0, FileKind("image/gif", "gif")),
    (b"%PDF-", 0, FileKind("application/pdf", "pdf")),
]
ALLOWED_DESCRIPTION = "PNG, JPEG, GIF or WebP images and PDF files"


def file_kind_sniff(head: bytes) -> FileKind | None:
    for signature, offset, kind in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileKind("image/webp", "webp")
    return None


_UNSAFE_NAME_RE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def attachment_name_clean(name: str, kind: FileKind) -> str:
    """A display name safe in headers and on disk, ending in the extension of the real type."""
    name = unicodedata.normalize("NFC", name or "")
    name = _UNSAFE_NAME_RE.sub("_", name).strip(" .")[:150] or "file"
    _stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() not in {kind.extension, "jpeg"}:
        # "invoice.pdf.html" becomes "invoice.pdf.html.pdf": the name can't claim another type.
        name = f"{name}.{kind.extension}"
    return name


def attachment_upload(
    *,
    conversation: Conversation,
    upload: UploadedFile,
    uploaded_by_kind: str,
    uploaded_by_agent: User | None = None,
) -> Attachment:
    """Store an uploaded file for a later message of this conversation."""
    if uploaded_by_kind not in (Message.SenderKind.CUSTOMER, Message.SenderKind.AGENT):
        raise ValidationError("Unknown sender.", code="invalid_sender")
    limit = settings.CHAT_ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size == 0:
        raise ValidationError("The file is empty.", code="empty_file")
    if upload.size > limit:
        raise ValidationError(
            f"The file is too large: the limit is {limit // (1024 * 1024)} MB.",
            code="file_too_large",
        )
    upload.seek(0)
    kind = file_kind_sniff(upload.read(16))
    upload.seek(0)
    if kind is None:
        raise ValidationError(
            f"This type of file can't be sent. Send {ALLOWED_DESCRIPTION}.", code="file_type"
        )
    attachment = Attachment(
        conversation=conversation,
        name=attachment_name_clean(upload.name or "", kind),
        content_type=kind.content_type,
        size=upload.size,
        uploaded_by_kind=uploaded_by_kind,
        uploaded_by_agent=uploaded_by_agent,
    )
    attachment.file.save(attachment.id.hex, upload, save=False)
    attachment.save()
    return attachment


def attachment_upload_by_visitor(*, contact: Contact, ip: str, upload: UploadedFile) -> Attachment:
    """A file from the widget, for the visitor's current conversation.

    Counts against the visitor's message budget (RateLimited); refused while chat is switched
    off or before the visitor has a conversation (ValidationError), storing nothing.
    """
    if not widget_settings_get().enabled:
        raise ValidationError("Chat is switched off.", code="widget_disabled")
    decision = visitor_message_allowed(ip=ip, visitor=f"c{contact.pk}")
    if not decision.allowed:
        raise RateLimited(decision.retry_after)
    conversation = visitor_conversation_current(contact=contact)
    if conversation is None:
        raise ValidationError("Start the chat before sending a file.", code="no_conversation")
    return attachment_upload(
        conversation=conversation, upload=upload, uploaded_by_kind=Message.SenderKind.CUSTOMER
    )
