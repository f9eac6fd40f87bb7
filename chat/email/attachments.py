"""Keeping a mail's attachments: dangerous types and oversized files are left out, with a note."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse

from chat.models import Attachment, Conversation, Message
from chat.services.attachments import file_kind_sniff

if TYPE_CHECKING:
    from chat.email.parsing import ParsedAttachment

ATTACHMENTS_PER_MAIL_MAX = 10  # what one message can carry (chat.services.messages)

# Types a browser could run or render as a page, whatever the download headers say; a mail
# carrying them keeps a note instead.
_REFUSED_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "application/javascript",
    "text/javascript",
    "application/x-msdownload",
    "application/x-sh",
    "application/java-archive",
}
_REFUSED_EXTENSIONS = {
    "html", "htm", "xhtml", "svg", "svgz", "xml", "js", "mjs", "exe", "msi", "bat", "cmd",
    "scr", "vbs", "ps1", "sh", "jar", "com", "hta", "lnk",
}  # fmt: skip


@dataclass
class StoredAttachments:
    attachments: list[Attachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Content-ID → our download URL, to point the HTML's cid: images at the stored files.
    cid_urls: dict[str, str] = field(default_factory=dict)


def _refused(item: ParsedAttachment) -> bool:
    extension = item.filename.rpartition(".")[2].lower() if "." in item.filename else ""
    return item.content_type in _REFUSED_TYPES or extension in _REFUSED_EXTENSIONS


def email_attachments_store(
    *, conversation: Conversation, items: Sequence[ParsedAttachment]
) -> StoredAttachments:
    """Store what may be kept as the customer's attachments of this conversation."""
    stored = StoredAttachments()
    limit = settings.EMAIL_ATTACHMENT_MAX_BYTES
    for item in items:
        if not item.content:
            continue
        if _refused(item):
            stored.notes.append(f"Removed attachment “{item.filename}”: this type is not allowed.")
            continue
        if len(item.content) > limit:
            stored.notes.append(
                f"Removed attachment “{item.filename}”: larger than {limit // (1024 * 1024)} MB."
            )
            continue
        if len(stored.attachments) >= ATTACHMENTS_PER_MAIL_MAX:
            stored.notes.append(
                f"Removed attachment “{item.filename}”: at most {ATTACHMENTS_PER_MAIL_MAX} "
                "files are kept per email."
            )
            continue
        # Images are shown inline only when their bytes say they are one of the plain formats.
        kind = file_kind_sniff(item.content[:16])
        if kind is not None:
            content_type = kind.content_type
        elif item.content_type.startswith("image/"):
            content_type = "application/octet-stream"
        else:
            content_type = item.content_type or "application/octet-stream"
        attachment = Attachment(
            conversation=conversation,
            name=item.filename[:200],
            content_type=content_type[:100],
            size=len(item.content),
            uploaded_by_kind=Message.SenderKind.CUSTOMER,
        )
        attachment.file.save(attachment.id.hex, ContentFile(item.content), save=False)
        attachment.save()
        stored.attachments.append(attachment)
        if item.content_id:
            stored.cid_urls[item.content_id] = reverse(
                "chat_attachment_download", args=[attachment.id]
            )
    return stored
