"""Ticket services where the API tests don't reach: numbers, status ↔ conversation mapping,
what messages and reads do to a ticket, on-hold wake-ups and merging."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from chat.models import Conversation, Message
from chat.services.conversations import conversation_open, conversation_read_by_agent
from chat.services.messages import message_create
from helpdesk.contacts.models import Contact
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.services.merge import ticket_merge
from helpdesk.tickets.services.status import ticket_status_change, tickets_on_hold_wake_due
from tests.factories import ConversationFactory
from tests.helpdesk.api.helpers import owner_of

pytestmark = pytest.mark.django_db

S = Ticket.Status
CUSTOMER = Message.SenderKind.CUSTOMER
AGENT = Message.SenderKind.AGENT


def _ticket_of(conversation: Conversation) -> Ticket:
    return Ticket.objects.select_related("requester", "assignee").get(
        pk=Conversation.objects.get(pk=conversation.pk).ticket_id
    )


def _set_status(conversation: Conversation, status: str) -> Ticket:
    """Put the conversation's ticket in `status` along allowed transitions (as an agent would)."""
    path = {
        S.NEW: [],
        S.OPEN: [S.OPEN],
        S.PENDING: [S.PENDING],
        S.ON_HOLD: [S.ON_HOLD],
        S.SOLVED: [S.SOLVED],
        S.CLOSED: [S.SOLVED, S.CLOSED],
    }[status]
    for step in path:
        ticket_status_change(ticket=_ticket_of(conversation), status=step, actor=None)
    return _ticket_of(conversation)


def _write(conversation: Conversation, kind: str = CUSTOMER, body: str = "Hi", **kwargs):
    return message_create(conversation=conversation, sender_kind=kind, body=body, **kwargs)


def _conversation_row(conversation: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)


# ---- Numbers -------------------------------------------------------------------------------


def test_ticket_numbers_start_at_1001_and_count_per_workspace(tenant, other_tenant):
    numbers = {}
    for workspace, count in ((tenant, 3), (other_tenant, 2)):
        with tenant_context(workspace):
            numbers[workspace.slug] = [
                _ticket_of(ConversationFactory()).number for _ in range(count)
            ]

    assert numbers == {"acme": [1001, 1002, 1003], "globex": [1001, 1002]}


# ---- Status and conversations --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "conversation_status"),
    [
        (S.OPEN, "open"),
        (S.PENDING, "pending"),
        (S.ON_HOLD, "pending"),  # on hold without a time: waiting, not snoozed
        (S.SOLVED, "resolved"),
        (S.CLOSED, "resolved"),
    ],
)
def test_the_conversations_follow_their_tickets_status(tenant, status, conversation_status):
    with tenant_context(tenant):
        conversation = ConversationFactory()
        conversation_open(
            contact=conversation.contact, channel="email", on_ticket=_ticket_of(conversation)
        )

        ticket = _set_status(conversation, status)

        assert ticket.status == status
        assert (
            list(Conversation.objects.filter(ticket=ticket).values_list("status", "snoozed_until"))
            == [(conversation_status, None)] * 2
        )


def test_on_hold_until_a_time_snoozes_and_the_wake_up_reopens(tenant):
    with tenant_context(tenant):
        conversation = ConversationFactory()
        later = ConversationFactory()
        until = timezone.now() + timedelta(hours=1)
        for c in (conversation, later):
            ticket_status_change(
                ticket=_ticket_of(c), status=S.ON_HOLD, snoozed_until=until, actor=None
            )
        row = _conversation_row(conversation)
        assert (row.status, row.snoozed_until) == ("snoozed", until)

        assert tickets_on_hold_wake_due() == 0  # not yet
        # An hour passes for the first one only.
        Conversation.objects.filter(pk=conversation.pk).update(
            snoozed_until=timezone.now() - timedelta(seconds=1)
        )
        woken = tickets_on_hold_wake_due()

        assert woken == 1
        assert _ticket_of(conversation).status == S.OPEN
        row = _conversation_row(conversation)
        assert (row.status, row.snoozed_until) == ("open", None)
        assert _ticket_of(later).status == S.ON_HOLD
        assert _conversation_row(later).status == "snoozed"


def test_a_ticket_reopened_by_a_message_leaves_no_conversation_snoozed(tenant):
    with tenant_context(tenant):
        chat = ConversationFactory()
        mail = conversation_open(contact=chat.contact, channel="email", on_ticket=_ticket_of(chat))
        ticket_status_change(
            ticket=_ticket_of(chat),
            status=S.ON_HOLD,
            snoozed_until=timezone.now() + timedelta(hours=1),
            actor=None,
        )

        _write(chat, body="Any news?")
        Conversation.objects.filter(pk=mail.pk).update(
            snoozed_until=timezone.now() - timedelta(seconds=1)
        )
        tickets_on_hold_wake_due()

        assert _ticket_of(chat).status == S.OPEN
        assert _conversation_row(mail).status == "open"


@pytest.mark.parametrize(
    ("start", "allowed"),
    [
        (S.NEW, {S.OPEN, S.PENDING, S.ON_HOLD, S.SOLVED}),
        (S.OPEN, {S.PENDING, S.ON_HOLD, S.SOLVED}),
        (S.SOLVED, {S.OPEN, S.PENDING, S.ON_HOLD, S.CLOSED}),
        (S.CLOSED, set()),
    ],
)
def test_transitions_an_agent_may_make(tenant, start, allowed):
    with tenant_context(tenant):
        for wanted in S.values:
            if wanted == start:
                continue
            conversation = ConversationFactory()
            _set_status(conversation, start)
            try:
                ticket_status_change(ticket=_ticket_of(conversation), status=wanted, actor=None)
            except ValidationError as exc:
                assert exc.code == "invalid_transition"
                assert wanted not in allowed, f"{start} → {wanted} was refused"
                assert _ticket_of(conversation).status == start
            else:
                assert wanted in allowed, f"{start} → {wanted} was allowed"


# ---- Messages and status -------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.PENDING, S.SOLVED])
def test_a_customer_message_reopens_a_pending_or_solved_ticket(tenant, status):
    with tenant_context(tenant):
        conversation = ConversationFactory()
        _set_status(conversation, status)

        _write(conversation, body="It still doesn't work")

        assert _ticket_of(conversation).status == S.OPEN
        assert _conversation_row(conversation).status == "open"


def test_a_customer_message_leaves_a_ticket_on_hold_for_a_third_party(tenant):
    with tenant_context(tenant):
        conversation = ConversationFactory()
        _set_status(conversation, S.ON_HOLD)

        _write(conversation, body="Any news from the carrier?")

        assert _ticket_of(conversation).status == S.ON_HOLD
        assert _conversation_row(conversation).status == "pending"


def test_a_customer_message_wakes_a_ticket_on_hold_until_a_time(tenant):
    with tenant_context(tenant):
        conversation = ConversationFactory()
        ticket_status_change(
            ticket=_ticket_of(conversation),
            status=S.ON_HOLD,
            snoozed_until=timezone.now() + timedelta(days=1),
            actor=None,
        )

        _write(conversation)

        assert _ticket_of(conversation).status == S.OPEN
        row = _conversation_row(conversation)
        assert (row.status, row.snoozed_until) == ("open", None)


def test_a_customer_message_on_a_closed_ticket_opens_a_follow_up(tenant):
    owner = owner_of(tenant)
    with tenant_context(tenant):
        conversation = ConversationFactory(subject="Broken zipper")
        Ticket.objects.filter(conversations=conversation).update(assignee=owner)
        _write(conversation, body="My zipper broke")
        closed = _set_status(conversation, S.CLOSED)

        write = _write(conversation, body="It broke again")

        follow_up = _ticket_of(conversation)
        assert follow_up.pk != closed.pk
        assert follow_up.follow_up_of_id == closed.pk
        assert follow_up.number == closed.number + 1
        assert (follow_up.status, follow_up.subject) == (S.NEW, "Broken zipper")
        assert follow_up.assignee_id == owner.pk
        assert follow_up.last_message_preview == "It broke again"
        assert follow_up.unread_count == 1
        assert write.message.conversation_id == conversation.pk
        assert _conversation_row(conversation).status == "open"
        old = Ticket.objects.get(pk=closed.pk)
        assert (old.status, old.closed_at) == (S.CLOSED, closed.closed_at)


def test_an_agent_message_on_a_closed_ticket_opens_nothing(tenant):
    with tenant_context(tenant):
        conversation = ConversationFactory()
        closed = _set_status(conversation, S.CLOSED)

        _write(conversation, kind=AGENT, body="Glad we could help")

        assert _ticket_of(conversation).pk == closed.pk
        assert Ticket.objects.count() == 1


def test_an_agent_reply_opens_a_new_ticket_and_an_internal_note_does_not(tenant):
    owner = owner_of(tenant)
    with tenant_context(tenant):
        replied = ConversationFactory()
        noted = ConversationFactory()

        _write(noted, kind=AGENT, body="VIP", sender_agent=owner, is_internal=True)
        _write(replied, kind=AGENT, body="Hello!", sender_agent=owner)

        assert _ticket_of(noted).status == S.NEW
        assert _ticket_of(replied).status == S.OPEN
        assert _ticket_of(noted).last_message_preview == ""


def test_the_unread_count_follows_messages_and_reads(tenant):
    owner = owner_of(tenant)
    with tenant_context(tenant):
        chat = ConversationFactory()
        mail = conversation_open(contact=chat.contact, channel="email", on_ticket=_ticket_of(chat))
        for body in ("one", "two", "three"):
            _write(chat, body=body)
        _write(mail, body="by mail")
        assert _ticket_of(chat).unread_count == 4

        conversation_read_by_agent(conversation=_conversation_row(chat), seq=2)
        assert _ticket_of(chat).unread_count == 2

        _write(chat, kind=AGENT, body="On it", sender_agent=owner)  # read what it answers
        assert _ticket_of(chat).unread_count == 1

        conversation_read_by_agent(conversation=_conversation_row(mail), seq=1)
        assert _ticket_of(chat).unread_count == 0
        assert sorted(_ticket_of(chat).channels) == ["email", "web"]


# ---- Merge ---------------------------------------------------------------------------------


def test_merging_moves_conversations_and_notes_it(tenant):
    owner = owner_of(tenant)
    with tenant_context(tenant):
        target_chat = ConversationFactory(subject="Lost parcel")
        source_mail = ConversationFactory(
            contact=Contact.objects.create(name="Ana", email="ana@example.com"),
            channel="email",
            subject="Where is it?",
        )
        _write(source_mail, body="Where is my parcel?")
        target, source = _ticket_of(target_chat), _ticket_of(source_mail)
        _set_status(source_mail, S.PENDING)

        merged = ticket_merge(source=source, target=target, actor=owner)

        assert merged.pk == target.pk
        assert list(
            Conversation.objects.filter(ticket=target).order_by("pk").values_list("pk", flat=True)
        ) == [target_chat.pk, source_mail.pk]
        # The moved conversation takes the target's status.
        assert _conversation_row(source_mail).status == "open"
        old = Ticket.objects.get(pk=source.pk)
        assert (old.status, old.merged_into_id, old.unread_count) == (S.CLOSED, target.pk, 0)
        assert old.closed_at is not None
        assert (merged.unread_count, sorted(merged.channels)) == (1, ["email", "web"])
        note = f"Ticket #{source.number} was merged into #{target.number} by Olivia Owner."
        moved_notes = Message.objects.filter(conversation=source_mail, body=note)
        assert list(moved_notes.values_list("sender_kind", "is_internal")) == [("system", True)]


@pytest.mark.parametrize("case", ["itself", "source merged", "target merged", "target closed"])
def test_refused_merges_change_nothing(tenant, case):
    with tenant_context(tenant):
        target = _ticket_of(ConversationFactory())
        source_conversation = ConversationFactory()
        source = _ticket_of(source_conversation)
        third = _ticket_of(ConversationFactory())
        if case == "itself":
            source = target
        elif case == "source merged":
            ticket_merge(source=source, target=third, actor=None)
        elif case == "target merged":
            ticket_merge(source=target, target=third, actor=None)
        else:
            Ticket.objects.filter(pk=target.pk).update(status=S.CLOSED)
        before = (
            list(Ticket.objects.order_by("pk").values()),
            list(Conversation.objects.order_by("pk").values("pk", "ticket_id", "status")),
            Message.objects.count(),
        )

        with pytest.raises(ValidationError) as refused:
            ticket_merge(source=source, target=target, actor=None)

        assert (
            refused.value.code
            == {
                "itself": "same_ticket",
                "source merged": "ticket_merged",
                "target merged": "ticket_merged",
                "target closed": "target_closed",
            }[case]
        )
        after = (
            list(Ticket.objects.order_by("pk").values()),
            list(Conversation.objects.order_by("pk").values("pk", "ticket_id", "status")),
            Message.objects.count(),
        )
        assert after == before


def test_a_message_arriving_on_a_merged_ticket_goes_to_the_target(tenant):
    with tenant_context(tenant):
        target = _ticket_of(ConversationFactory())
        conversation = ConversationFactory()
        source = _ticket_of(conversation)
        ticket_merge(source=source, target=target, actor=None)

        _write(conversation, body="Hello?")

        assert _ticket_of(conversation).pk == target.pk
        assert Ticket.objects.get(pk=target.pk).last_message_preview == "Hello?"
        assert Ticket.objects.get(pk=source.pk).last_message_preview == ""
