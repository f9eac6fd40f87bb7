from __future__ import annotations

import uuid

from django.core.exceptions import ObjectDoesNotExist

from chat.models import Attachment
from helpdesk.contacts.models import Contact
from tenants.agents.models import User


class AttachmentNotFound(ObjectDoesNotExist):
    """Alike for a missing attachment and one the caller may not download."""


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def attachment_access_for_agent(*, actor: User, attachment_id: object) -> Attachment:
    pk = _uuid(attachment_id)
    found = Attachment.objects.filter(pk=pk).first() if pk and actor.is_active else None
    if found is None:
        raise AttachmentNotFound
    return found


def attachment_access_for_visitor(*, contact: Contact, attachment_id: object) -> Attachment:
    """Only files of the visitor's own conversations; internal-note files never."""
    pk = _uuid(attachment_id)
    found = (
        Attachment.objects.filter(pk=pk, conversation__contact=contact)
        .exclude(message__is_internal=True)
        .first()
        if pk
        else None
    )
    if found is None:
        raise AttachmentNotFound
    return found
