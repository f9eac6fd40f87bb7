"""API for the workspace's contacts: /api/v1/contacts/ (search) and /api/v1/contacts/{id}/."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from chat.api.shapes import ConversationBriefSerializer
from chat.payloads import contact_brief, iso_utc
from chat.selectors.conversations import contact_conversations
from helpdesk.api.base import TenantViewSet
from helpdesk.contacts.models import Contact
from helpdesk.contacts.selectors import CONTACT_SEARCH_MAX_CHARS, contact_access, contact_list
from helpdesk.contacts.services import contact_merge
from helpdesk.object_ids import PK_MAX

CONTACT_CONVERSATIONS_MAX = 50


def contact_payload(contact: Contact) -> dict[str, Any]:
    """Everything an agent may know about a contact. Never the visitor key behind their tokens."""
    return {
        **contact_brief(contact),
        "phone": contact.phone,
        "country": contact.country,
        "language": contact.language,
        "timezone": contact.timezone,
        "external_id": contact.external_id,
        "custom_attributes": contact.custom_attributes,
        "last_seen_at": iso_utc(contact.last_seen_at),
        "last_page_url": contact.last_page_url,
        "last_page_title": contact.last_page_title,
        "last_referrer": contact.last_referrer,
        "last_user_agent": contact.last_user_agent,
        "created_at": iso_utc(contact.created_at),
    }


class ContactSerializer(serializers.Serializer):
    """A contact (customer). Fields the visitor's browser reported may be empty."""

    id = serializers.IntegerField()
    name = serializers.CharField(
        help_text="The contact's name, else their email, else 'Visitor <id>'."
    )
    email = serializers.CharField(allow_blank=True)
    verified = serializers.BooleanField(help_text="Identity signed by the merchant's store.")
    phone = serializers.CharField(allow_blank=True)
    country = serializers.CharField(allow_blank=True, help_text="ISO 3166 code, e.g. DE.")
    language = serializers.CharField(allow_blank=True, help_text="Browser language, e.g. de-AT.")
    timezone = serializers.CharField(allow_blank=True, help_text="IANA name, e.g. Europe/Vienna.")
    external_id = serializers.CharField(
        allow_blank=True, help_text="The shopper's id in the store (verified identities)."
    )
    custom_attributes = serializers.DictField(child=serializers.JSONField())
    last_seen_at = serializers.DateTimeField(allow_null=True)
    last_page_url = serializers.CharField(allow_blank=True)
    last_page_title = serializers.CharField(allow_blank=True)
    last_referrer = serializers.CharField(allow_blank=True)
    last_user_agent = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, instance: Contact) -> dict[str, Any]:
        return contact_payload(instance)


class ContactDetailSerializer(ContactSerializer):
    conversations = ConversationBriefSerializer(
        many=True, help_text=f"Newest first, at most {CONTACT_CONVERSATIONS_MAX}."
    )

    def to_representation(self, instance: Contact) -> dict[str, Any]:
        conversations = contact_conversations(contact_id=instance.pk)[:CONTACT_CONVERSATIONS_MAX]
        return {
            **contact_payload(instance),
            "conversations": ConversationBriefSerializer(conversations, many=True).data,
        }


class ContactListQuery(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=CONTACT_SEARCH_MAX_CHARS,
        help_text="Part of the name or email address (case-insensitive).",
    )


class ContactMergeSerializer(serializers.Serializer):
    source_id = serializers.IntegerField(
        min_value=1,
        max_value=PK_MAX,
        help_text="The contact to fold into this one: their conversations and tickets move here "
        "and they are deleted. A contact of another workspace is not found (404).",
    )


CONTACT_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Contact id."
)


@extend_schema(tags=["contacts"])
class ContactViewSet(TenantViewSet[Contact]):
    """The workspace's contacts. Every agent of the workspace sees all of them."""

    model = Contact
    selector = contact_list
    access = contact_access
    access_id_argument = "contact_id"
    serializer_class = ContactSerializer

    @extend_schema(operation_id="contacts_list", parameters=[ContactListQuery])
    def list(self, request):
        """The workspace's contacts, newest first; `q` searches names and email addresses."""
        query = ContactListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        contacts = contact_list(actor=self.actor, q=query.validated_data.get("q", ""))
        page = self.paginate_queryset(contacts)
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    @extend_schema(
        operation_id="contacts_retrieve", parameters=[CONTACT_ID], responses=ContactDetailSerializer
    )
    def retrieve(self, request, pk=None):
        """One contact with their conversations."""
        return Response(ContactDetailSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="contacts_merge",
        parameters=[CONTACT_ID],
        request=ContactMergeSerializer,
        responses=ContactDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge contact `source_id` into this one (the same person, e.g. a chat visitor who
        also wrote by email): blanks here are filled from theirs, their conversations and
        tickets move here, and they are deleted. Two verified store customers with different
        ids are two people and are refused."""
        target = self.get_object()
        form = ContactMergeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        source = contact_access(actor=self.actor, contact_id=form.validated_data["source_id"])
        merged = contact_merge(source=source, target=target, actor=self.actor)
        return Response(ContactDetailSerializer(merged).data)
