"""Assigning, resolving, reopening and snoozing conversations; what a customer message does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from chat.models import Conversation
from chat.services.conversations import (
    conversation_assign,
    conversation_read_by_agent,
    conversation_status_change,
    conversations_snoozed_wake_due,
)
from chat.services.messages import message_create
from tenants.agents.models import User
from tests.factories import AgentFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def _conversation() -> Conversation:
    conversation = ConversationFactory()
    message_create(conversation=conversation, sender_kind="customer", body="Hello")
    return Conversation.objects.get(pk=conversation.pk)


def test_a_customer_message_reopens_a_resolved_or_snoozed_conversation(tenant):
    with tenant_context(tenant):
        owner = User.objects.get(role="owner")
        for status, until in (
            ("resolved", None),
            ("pending", None),
            ("snoozed", timezone.now() + timedelta(hours=1)),
        ):
            conversation = _conversation()
            conversation_status_change(
                conversation=conversation, status=status, actor=owner, snoozed_until=until
            )

            message_create(conversation=conversation, sender_kind="customer", body="Still there?")

            reopened = Conversation.objects.get(pk=conversation.pk)
            assert (reopened.status, reopened.snoozed_until) == ("open", None)


def test_an_agent_reply_does_not_reopen_and_clears_unread(tenant):
    with tenant_context(tenant):
        owner = User.objects.get(role="owner")
        conversation = _conversation()
        message_create(conversation=conversation, sender_kind="customer", body="And?")
        assert Conversation.objects.get(pk=conversation.pk).agent_unread_count == 2
        conversation_status_change(conversation=conversation, status="pending", actor=owner)

        message_create(
            conversation=conversation, sender_kind="agent", sender_agent=owner, body="On it"
        )

        after = Conversation.objects.get(pk=conversation.pk)
        assert after.status == "pending"
        assert (after.agent_unread_count, after.agent_last_read_seq) == (0, 3)
        assert after.last_message_preview == "On it"


def test_internal_notes_leave_the_preview_and_unread_count_alone(tenant):
    with tenant_context(tenant):
        owner = User.objects.get(role="owner")
        conversation = _conversation()

        message_create(
            conversation=conversation,
            sender_kind="agent",
            sender_agent=owner,
            body="VIP, refund ok",
            is_internal=True,
        )

        after = Conversation.objects.get(pk=conversation.pk)
        assert after.last_message_preview == "Hello"
        assert after.agent_unread_count == 1


@pytest.mark.parametrize(
    ("status", "until", "code"),
    [
        ("closed", None, "invalid_status"),
        ("snoozed", None, "snooze_until_required"),
        ("snoozed", "past", "snooze_range"),
        ("snoozed", "far", "snooze_range"),
    ],
)
def test_bad_status_changes_are_refused_and_nothing_changes(tenant, status, until, code):
    when = {
        None: None,
        "past": timezone.now() - timedelta(minutes=1),
        "far": timezone.now() + timedelta(days=91),
    }[until]
    with tenant_context(tenant):
        owner = User.objects.get(role="owner")
        conversation = _conversation()

        with pytest.raises(ValidationError) as refused:
            conversation_status_change(
                conversation=conversation, status=status, actor=owner, snoozed_until=when
            )

        assert refused.value.code == code
        assert Conversation.objects.get(pk=conversation.pk).status == "open"


def test_snoozed_conversations_wake_when_due(tenant):
    with tenant_context(tenant):
        owner = User.objects.get(role="owner")
        due, later = _conversation(), _conversation()
        for conversation in (due, later):
            conversation_status_change(
                conversation=conversation,
                status="snoozed",
                actor=owner,
                snoozed_until=timezone.now() + timedelta(hours=1),
            )
        Conversation.objects.filter(pk=due.pk).update(
            snoozed_until=timezone.now() - timedelta(seconds=1)
        )

        assert conversations_snoozed_wake_due() == 1
        assert conversations_snoozed_wake_due() == 0

        assert Conversation.objects.get(pk=due.pk).status == "open"
        assert Conversation.objects.get(pk=later.pk).status == "snoozed"


def test_assigning_to_a_deactivated_or_unknown_agent_is_refused(tenant):
    gone = AgentFactory(tenant=tenant, email="gone@acme.example", is_active=False)
    luis = AgentFactory(tenant=tenant, email="luis@acme.example", name="Luis")
    with tenant_context(tenant):
        owner = User.objects.get(role="owner")
        conversation = _conversation()

        for bad in (gone.pk, 999_999):
            with pytest.raises(ValidationError):
                conversation_assign(conversation=conversation, assignee_id=bad, actor=owner)
        assert Conversation.objects.get(pk=conversation.pk).assignee_id is None

        conversation_assign(conversation=conversation, assignee_id=luis.pk, actor=owner)
        assert Conversation.objects.get(pk=conversation.pk).assignee_id == luis.pk
        conversation_assign(conversation=conversation, assignee_id=None, actor=owner)
        assert Conversation.objects.get(pk=conversation.pk).assignee_id is None


def test_reading_never_moves_backwards_or_past_the_end(tenant):
    with tenant_context(tenant):
        conversation = _conversation()
        for body in ("two", "three"):
            message_create(conversation=conversation, sender_kind="customer", body=body)

        conversation_read_by_agent(conversation=conversation, seq=2)
        assert Conversation.objects.get(pk=conversation.pk).agent_unread_count == 1
        conversation_read_by_agent(conversation=conversation, seq=1)
        conversation_read_by_agent(conversation=conversation, seq=99)

        after = Conversation.objects.get(pk=conversation.pk)
        assert (after.agent_last_read_seq, after.agent_unread_count) == (3, 0)
