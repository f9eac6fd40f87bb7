"""Visitor tokens: what the widget keeps to be the same visitor after a reload.

A token names a contact and carries the contact's visitor_key, signed with SECRET_KEY under a
salt that includes the workspace's schema, so a token from one workspace is worthless on another
and replacing the key revokes every token of the contact. Tokens never go in URLs.
"""

from __future__ import annotations

from django.core import signing

from helpdesk.contacts.models import Contact
from tenants.connection import connection


def _salt() -> str:
    return f"chat.visitor.{connection.schema_name}"


def visitor_token_for(contact: Contact) -> str:
    return signing.dumps({"c": contact.pk, "k": contact.visitor_key}, salt=_salt(), compress=True)


def visitor_token_contact(token: object) -> Contact | None:
    """The contact a token names, or None for anything forged, foreign, revoked or malformed."""
    if not isinstance(token, str) or not token or len(token) > 500:
        return None
    try:
        data = signing.loads(token, salt=_salt())
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        return None
    contact = Contact.objects.filter(pk=data["c"]).first()
    if contact is None or contact.visitor_key != data.get("k"):
        return None
    return contact
