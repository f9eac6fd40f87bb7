"""API for a conversation's messages: /api/v1/conversations/{id}/messages/.

Reading pages through history (or replays what a reconnecting client missed); writing sends a
reply or an internal note through the same service as the inbox socket, so the visitor receives
a reply live.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from chat.api.conversations import CONVERSATION_ID, conversation_list_all
from chat.api.shapes import MessageSerializer
from chat.models import Conversation
from chat.selectors.conversations import conversation_access
from chat.selectors.messages import MESSAGES_PAGE_MAX, message_list_after, message_list_before
from chat.services.messages import ATTACHMENTS_PER_MESSAGE_MAX, MESSAGE_MAX_CHARS
from chat.services.replies import conversation_reply
from helpdesk.api.base import TenantViewSet
from helpdesk.object_ids import PK_MAX

MESSAGES_PAGE_DEFAULT = 50


class MessageListQuery(serializers.Serializer):
    after_seq = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=PK_MAX,
        help_text="Messages after this seq, oldest first: what a reconnecting client missed.",
    )
    before_seq = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=PK_MAX,
        help_text="The page before this seq (scrolling up), oldest first.",
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MESSAGES_PAGE_MAX,
        default=MESSAGES_PAGE_DEFAULT,
        help_text=f"At most {MESSAGES_PAGE_MAX}.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "after_seq" in attrs and "before_seq" in attrs:
            raise serializers.ValidationError("Send after_seq or before_seq, not both.")
        return attrs


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True, help_text="Oldest first.")
    older_available = serializers.BooleanField(help_text="Messages before the first one exist.")
    newer_available = serializers.BooleanField(
        help_text="With after_seq: more messages follow the last one; ask again after its seq."
    )


class MessageCreateSerializer(serializers.Serializer):
    """A reply or an internal note. Fields not listed here (a conversation id...) are ignored:
    the conversation is the one in the URL."""

    body = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text=f"Plain text, at most {MESSAGE_MAX_CHARS:,} characters; may be empty when "
        "attachments are sent.",
    )
    client_message_id = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        trim_whitespace=False,
        max_length=64,
        help_text="Your id for this send ([A-Za-z0-9_-]{1,64}); a retry with the same id is "
        "stored once and answered with the stored message (200 instead of 201).",
    )
    is_internal = serializers.BooleanField(
        required=False,
        default=False,
        help_text="An internal note: agents only, never sent to the customer.",
    )
    attachments = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        max_length=ATTACHMENTS_PER_MESSAGE_MAX,
        help_text="Ids of files an agent uploaded to this conversation and not yet sent.",
    )


@extend_schema(tags=["messages"], parameters=[CONVERSATION_ID])
class ConversationMessageViewSet(TenantViewSet[Conversation]):
    """The messages of one conversation, internal notes included (agents see everything)."""

    model = Conversation
    selector = conversation_list_all
    access = conversation_access
    access_id_argument = "conversation_id"
    serializer_class = MessageSerializer
    # Pages by sequence number, not offset: history shifts while it is read. Actions aren't
    # named list/create so the schema doesn't wrap the page object in an array.
    pagination_class = None

    @extend_schema(
        operation_id="conversations_messages_list",
        parameters=[MessageListQuery],
        responses=MessagePageSerializer,
    )
    def history(self, request, pk=None):
        """Without a seq, the newest messages. `after_seq` replays what came after it;
        `before_seq` pages back. Always oldest first."""
        conversation = self.get_object()
        query = MessageListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        limit = wanted["limit"]
        newer_available = False
        if "after_seq" in wanted:
            # One more than asked for tells whether the client must ask again.
            messages = message_list_after(
                conversation_id=conversation.pk, after_seq=wanted["after_seq"], limit=limit + 1
            )
            newer_available = len(messages) > limit
            messages = messages[:limit]
            # Sequence numbers are gap-free from 1 and agents see every message.
            first_seq = messages[0].seq if messages else conversation.last_seq + 1
            older_available = first_seq > 1
        else:
            messages, older_available = message_list_before(
                conversation_id=conversation.pk, before_seq=wanted.get("before_seq"), limit=limit
            )
        context = {"contact_name": conversation.contact.display_name}
        return Response(
            {
                "results": MessageSerializer(messages, many=True, context=context).data,
                "older_available": older_available,
                "newer_available": newer_available,
            }
        )

    @extend_schema(
        operation_id="conversations_messages_create",
        request=MessageCreateSerializer,
        responses={201: MessageSerializer, 200: MessageSerializer},
    )
    def send(self, request, pk=None):
        """Send a reply (the visitor receives it live) or, with `is_internal`, a note for the
        team. 201 with the message; 200 with the stored one when `client_message_id` repeats."""
        conversation = self.get_object()
        form = MessageCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        sent = form.validated_data
        write = conversation_reply(
            conversation=conversation,
            actor=self.actor,
            body=sent["body"],
            client_message_id=sent["client_message_id"],
            is_internal=sent["is_internal"],
            attachment_ids=sent["attachments"],
        )
        context = {"contact_name": conversation.contact.display_name}
        return Response(
            MessageSerializer(write.message, context=context).data,
            status=status.HTTP_201_CREATED if write.created else status.HTTP_200_OK,
        )
