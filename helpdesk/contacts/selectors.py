"""Reads on contacts for agents (API, customer panel). The schema is the tenant boundary: every
active agent of a workspace sees all of its contacts, and no other workspace's."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet

from helpdesk.contacts.models import Contact
from helpdesk.object_ids import object_id_parse
from tenants.agents.models import User

CONTACT_SEARCH_MAX_CHARS = 200


class ContactNotFound(ObjectDoesNotExist):
    """Raised alike for a contact that does not exist and one the caller may not see."""


def contact_access(*, actor: User, contact_id: int | str | None) -> Contact:
    pk = object_id_parse(contact_id)
    if pk is None or not actor.is_active:
        raise ContactNotFound
    found = Contact.objects.filter(pk=pk).first()
    if found is None:
        raise ContactNotFound
    return found


def contact_list(*, actor: User, q: str = "") -> QuerySet[Contact]:
    """The workspace's contacts, newest first; `q` matches part of the name or the email.

    `q` is only ever a value bound into the query (icontains escapes % and _), never SQL or a
    lookup; anything that isn't text matches nothing rather than being interpreted.
    """
    if not actor.is_active:
        return Contact.objects.none()
    qs = Contact.objects.all()
    if not isinstance(q, str):
        return qs.none()
    term = q.strip()[:CONTACT_SEARCH_MAX_CHARS]
    if term:
        qs = qs.filter(Q(name__icontains=term) | Q(email__icontains=term))
    return qs.order_by("-created_at", "-pk")
