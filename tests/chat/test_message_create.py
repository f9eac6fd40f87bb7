"""Storing messages: per-conversation sequence numbers and idempotent retries."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django_tenants.utils import tenant_context

from chat.models import Conversation, Message
from chat.selectors.messages import message_list_after
from chat.services.messages import MESSAGE_MAX_CHARS, message_create
from tests.factories import ConversationFactory

CUSTOMER = Message.SenderKind.CUSTOMER


def _conversation() -> Conversation:
    return ConversationFactory()


@pytest.mark.django_db
def test_messages_get_consecutive_sequence_numbers_per_conversation(tenant):
    with tenant_context(tenant):
        first, second = _conversation(), _conversation()

        seqs = [
            message_create(conversation=first, sender_kind=CUSTOMER, body=f"m{i}").message.seq
            for i in range(3)
        ]
        other = message_create(conversation=second, sender_kind=CUSTOMER, body="hi").message

        assert seqs == [1, 2, 3]
        assert other.seq == 1
        assert Conversation.objects.get(pk=first.pk).last_seq == 3


@pytest.mark.django_db
def test_a_retried_send_is_stored_once(tenant):
    with tenant_context(tenant):
        conversation = _conversation()
        first = message_create(
            conversation=conversation,
            sender_kind=CUSTOMER,
            body="Where is my order?",
            client_message_id="c-123",
        )

        retry = message_create(
            conversation=conversation,
            sender_kind=CUSTOMER,
            body="Where is my order?",
            client_message_id="c-123",
        )

        assert first.created and not retry.created
        assert retry.message.pk == first.message.pk
        assert Message.objects.filter(conversation=conversation).count() == 1
        assert Conversation.objects.get(pk=conversation.pk).last_seq == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"body": "   "}, "empty"),
        ({"body": "x" * (MESSAGE_MAX_CHARS + 1)}, "too_long"),
        ({"body": "hi", "client_message_id": "bad id; DROP TABLE"}, "invalid_client_message_id"),
        ({"body": "hi", "sender_kind": "admin"}, "invalid_sender"),
        ({"body": "note", "is_internal": True}, "internal_not_agent"),
    ],
)
def test_bad_messages_are_refused_and_nothing_is_stored(tenant, fields, code):
    with tenant_context(tenant):
        conversation = _conversation()
        kwargs = {"conversation": conversation, "sender_kind": CUSTOMER, **fields}

        with pytest.raises(ValidationError) as refused:
            message_create(**kwargs)

        assert refused.value.code == code
        assert not Message.objects.exists()
        assert Conversation.objects.get(pk=conversation.pk).last_seq == 0


@pytest.mark.django_db
def test_reconnecting_client_gets_what_it_missed_in_order(tenant):
    with tenant_context(tenant):
        conversation = _conversation()
        for i in range(5):
            message_create(conversation=conversation, sender_kind=CUSTOMER, body=f"m{i}")

        missed = list(message_list_after(conversation_id=conversation.pk, after_seq=2))

        assert [(m.seq, m.body) for m in missed] == [(3, "m2"), (4, "m3"), (5, "m4")]


@pytest.mark.django_db
def test_same_conversation_id_in_two_workspaces_are_separate(tenant, other_tenant):
    with tenant_context(tenant):
        mine = _conversation()
        message_create(conversation=mine, sender_kind=CUSTOMER, body="only in acme")
    with tenant_context(other_tenant):
        theirs = _conversation()
        assert theirs.pk == mine.pk  # the premise: same ids on both sides

        assert list(message_list_after(conversation_id=theirs.pk)) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_concurrent_senders_never_share_a_sequence_number(tenant):
    with tenant_context(tenant):
        conversation = _conversation()
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            with tenant_context(tenant):
                for i in range(10):
                    message_create(
                        conversation=conversation,
                        sender_kind=CUSTOMER,
                        body=f"{n}-{i}",
                        client_message_id=f"t{n}-{i}",
                    )
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    with tenant_context(tenant):
        seqs = list(Message.objects.filter(conversation=conversation).values_list("seq", flat=True))
    assert sorted(seqs) == list(range(1, 41))
