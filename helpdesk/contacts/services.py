"""Writes on contacts: finding the one behind an email address, merging, failing addresses."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from helpdesk.contacts.models import Contact
from tenants.agents.models import User

NAME_MAX = 200


def _address_lock(email: str) -> None:
    # Two mails from a new address arriving at once must make one contact, not two; a unique
    # index can't say it (a store may vouch for the same address on two shop accounts).
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["contact-email:" + email])


def contact_verified_by_email(email: str) -> Contact | None:
    """The contact that owns this address: a verified shopper first, then an email writer."""
    return (
        Contact.objects.filter(email__iexact=email, email_verified=True)
        .order_by("-identity_verified", "pk")
        .first()
    )


def contact_for_email_sender(*, email: str, name: str) -> Contact:
    """The contact writing from `email`, created on their first mail. Call inside a transaction.

    Replying from an address proves the sender can read it, so it counts as verified: a chat
    shopper whose store vouched for the same address is the same contact.
    """
    email = email.strip().lower()
    _address_lock(email)
    contact = contact_verified_by_email(email)
    if contact is not None:
        if name and not contact.name:
            contact.name = " ".join(name.split())[:NAME_MAX]
            contact.save(update_fields=["name"])
        return contact
    return Contact.objects.create(
        email=email, email_verified=True, name=" ".join(name.split())[:NAME_MAX]
    )


def contact_email_failing_mark(*, email: str, reason: str) -> int:
    """Mail to `email` bounced: its contacts show the address as failing. Returns how many."""
    return Contact.objects.filter(email__iexact=email.strip().lower()).update(
        email_failing_since=timezone.now(), email_failure_reason=" ".join(reason.split())[:500]
    )


def contact_email_working_mark(*, contact: Contact) -> None:
    """The customer wrote again from the address: it works."""
    if contact.email_failing_since is not None:
        contact.email_failing_since = None
        contact.email_failure_reason = ""
        contact.save(update_fields=["email_failing_since", "email_failure_reason"])


_FILLABLE = ("name", "email", "phone", "country", "language", "timezone", "external_id")


def contact_merge(*, source: Contact, target: Contact, actor: User | None) -> Contact:
    """Fold `source` into `target`: its conversations and tickets move, blanks are filled in.

    `source` is deleted. Two verified shoppers of the store are two people and stay apart.
    """
    from chat.models import Conversation
    from helpdesk.tickets.models import Ticket

    if source.pk == target.pk:
        raise ValidationError("A contact can't be merged into itself.", code="same_contact")
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Contact.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
        }
        if len(locked) != 2:
            raise ValidationError("That contact no longer exists.", code="unknown_contact")
        src, dst = locked[source.pk], locked[target.pk]
        if src.identity_verified and dst.identity_verified and src.external_id != dst.external_id:
            raise ValidationError(
                "Both contacts are verified store customers with different ids; they are "
                "different people.",
                code="both_verified",
            )
        fields = []
        for name in _FILLABLE:
            if not getattr(dst, name) and getattr(src, name):
                setattr(dst, name, getattr(src, name))
                fields.append(name)
        if src.identity_verified and not dst.identity_verified:
            dst.identity_verified = True
            dst.external_id = src.external_id
            fields += ["identity_verified", "external_id"]
        if src.email_verified and src.email == dst.email and not dst.email_verified:
            dst.email_verified = True
            fields.append("email_verified")
        dst.custom_attributes = {**src.custom_attributes, **dst.custom_attributes}
        fields.append("custom_attributes")
        Conversation.objects.filter(contact=src).update(contact=dst)
        Ticket.objects.filter(requester=src).update(requester=dst)
        # Deleted first: the unique index on verified store ids allows the copy only then.
        src.delete()
        dst.save(update_fields=fields)
    return dst
