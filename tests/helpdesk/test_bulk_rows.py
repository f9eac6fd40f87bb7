"""helpdesk.bulk_rows: its hand-built statements must read and store exactly what the ORM does.

Every comparison is against a fresh `Model.objects.get`, field by field (types included), so a
value that comes back as a string instead of a dict, naive instead of aware, or cut short fails.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import DataError, IntegrityError, OperationalError, connections, transaction
from django.db.models import Model
from django_tenants.utils import tenant_context

from chat.models import Conversation, Message
from helpdesk.bulk_rows import (
    Query,
    insert_query,
    lock_query,
    queries_run,
    table_name,
    update_query,
)
from helpdesk.contacts.models import Contact
from helpdesk.tickets.models import Ticket
from tenants.agents.models import User
from tests.factories import ConversationFactory

# Text a hand-built statement could get wrong: quotes, backslashes, placeholders, non-ASCII.
NASTY = [
    "'); DROP TABLE chat_message; --",
    "O'Brien said \"hi\" \\ back\\slash \\' \\n not a newline",
    "percent %s %(name)s %% and $1 ? placeholders",
    "Grüße, 東京, emoji 🎉👩🏽‍💻, RTL \u202eabc",
    "line one\nline two\ttab",
]
WHEN = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
CUSTOMER_KIND = Message.SenderKind.CUSTOMER.value


# The statements as the batched send runs them, one at a time.
def rows_for_update(model, pks, related=(), *, only=None):
    (rows,) = queries_run([lock_query(model, pks, related, only=only)])
    return rows


def rows_insert(objs) -> None:
    queries_run([insert_query(objs)])


def rows_update(objs, names) -> None:
    queries_run([update_query(objs, names)])


def _values(obj: Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def _same_as_orm(obj: Model) -> None:
    """`obj` holds what the ORM reads back for its row: equal values of the same types."""
    fresh = type(obj)._default_manager.get(pk=obj.pk)
    mine, theirs = _values(obj), _values(fresh)
    assert mine == theirs
    assert {k: type(v) for k, v in mine.items()} == {k: type(v) for k, v in theirs.items()}
    for name, value in mine.items():
        if isinstance(value, datetime):
            assert value.utcoffset() == theirs[name].utcoffset(), name


def _owner() -> User:
    return User.objects.get(role=User.Role.OWNER)


def _rich_contact(name: str = NASTY[1]) -> Contact:
    return Contact.objects.create(
        name=name,
        email="obrien@example.com",
        email_failing_since=WHEN,
        custom_attributes={
            "plan": "gold",
            "orders": [1, 2.5, None, True],
            "note": NASTY[0],
            "nested": {"ü": NASTY[3], "empty": {}},
        },
    )


def _locked_for_others(tenant, probes: dict[str, tuple[type[Model], int]]) -> dict[str, str]:
    """From a second connection, try to lock each probe's row without waiting: "locked" or
    "free" per probe name, which shows what the caller's transaction holds."""
    seen: dict[str, str] = {}

    def try_lock(model: type[Model], pk: int) -> str:
        try:
            with transaction.atomic():
                model._default_manager.select_for_update(nowait=True).get(pk=pk)
            return "free"
        except OperationalError:
            return "locked"

    def other_connection() -> None:
        try:
            with tenant_context(tenant):
                for name, (model, pk) in probes.items():
                    seen[name] = try_lock(model, pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_connection)
    thread.start()
    thread.join(30)
    return seen


# ---- rows_for_update ------------------------------------------------------------------------


@pytest.mark.django_db
def test_rows_for_update_reads_rows_and_their_relations_as_the_orm_does(
    tenant, django_assert_num_queries
):
    with tenant_context(tenant):
        owner = _owner()
        rich = ConversationFactory(
            contact=_rich_contact(),
            assignee=owner,
            snoozed_until=WHEN,
            last_message_preview=NASTY[3],
        )
        Conversation.objects.filter(pk=rich.pk).update(
            started_context={"fields": {"order": "#1'2"}, "page_url": NASTY[0]}, last_seq=2**40
        )
        plain = ConversationFactory()  # no assignee, default contact
        between = ConversationFactory()

        with transaction.atomic(), django_assert_num_queries(1):
            rows = rows_for_update(
                Conversation, [plain.pk, 10**9, rich.pk], ("contact", "assignee")
            )

        assert [row.pk for row in rows] == [rich.pk, plain.pk]  # by pk; unknown ids skipped
        assert between.pk not in [row.pk for row in rows]
        for row in rows:
            _same_as_orm(row)
            assert row._state.adding is False and row._state.db == "default"
        with django_assert_num_queries(0):  # the relations came with the rows
            contact, assignee = rows[0].contact, rows[0].assignee
            plain_contact, no_assignee = rows[1].contact, rows[1].assignee
        _same_as_orm(contact)
        assert contact.custom_attributes["nested"]["ü"] == NASTY[3]
        assert assignee is not None and assignee.pk == owner.pk
        _same_as_orm(assignee)
        _same_as_orm(plain_contact)
        assert no_assignee is None
        assert rows[0].started_context == {"fields": {"order": "#1'2"}, "page_url": NASTY[0]}
        assert rows[0].last_seq == 2**40


@pytest.mark.django_db
def test_rows_for_update_reads_array_fields_and_null_relations(tenant, django_assert_num_queries):
    with tenant_context(tenant):
        first, second = ConversationFactory(), ConversationFactory(assignee=_owner())
        Ticket.objects.filter(conversations=first).update(
            tags=["vip", "o'neil", "back\\slash", "ünï", "{braces}", "a,b", '"q"'],
            channels=["web", "email"],
            solved_at=WHEN,
        )
        ids = sorted(Ticket.objects.values_list("pk", flat=True), reverse=True)

        with transaction.atomic():
            tickets = rows_for_update(Ticket, ids, ("requester", "assignee"))

        assert [t.pk for t in tickets] == sorted(ids)
        for ticket in tickets:
            _same_as_orm(ticket)
            _same_as_orm(ticket.requester)
        assert tickets[0].tags == ["vip", "o'neil", "back\\slash", "ünï", "{braces}", "a,b", '"q"']
        assert tickets[0].channels == ["web", "email"]
        assert tickets[0].solved_at == WHEN
        assert tickets[1].closed_at is None
        with django_assert_num_queries(0):
            assert tickets[0].assignee is None
            assert tickets[1].assignee is not None
            assert tickets[0].requester.pk == first.contact_id
            assert tickets[1].requester.pk == second.contact_id


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_rows_for_update_locks_the_rows_until_commit_and_only_those(make_tenant):
    tenant = make_tenant(slug="lockshop", company_name="Lock Shop")
    with tenant_context(tenant):
        locked, free = ConversationFactory(), ConversationFactory()
    probes = {
        "conversation": (Conversation, locked.pk),
        "other conversation": (Conversation, free.pk),
        "its contact": (Contact, locked.contact_id),
    }

    with tenant_context(tenant), transaction.atomic():
        rows_for_update(Conversation, [locked.pk], ("contact", "assignee"))
        during = _locked_for_others(tenant, probes)
    after = _locked_for_others(tenant, probes)

    # FOR UPDATE OF the model's table only: the joined contact stays free.
    assert during == {"conversation": "locked", "other conversation": "free", "its contact": "free"}
    assert after == {"conversation": "free", "other conversation": "free", "its contact": "free"}


@pytest.mark.django_db
def test_rows_for_update_with_only_defers_the_rest_and_loads_it_when_read(
    tenant, django_assert_num_queries
):
    with tenant_context(tenant):
        owner = _owner()
        conversation = ConversationFactory(contact=_rich_contact(), assignee=owner)

        with transaction.atomic(), django_assert_num_queries(1):
            (row,) = rows_for_update(
                Conversation,
                [conversation.pk],
                ("contact", "assignee"),
                only={"": ("last_seq", "contact_id", "assignee_id"), "contact": ("name",)},
            )

        assert row.get_deferred_fields() >= {"status", "started_context"}
        assert row.contact.get_deferred_fields() >= {"email", "custom_attributes"}
        with django_assert_num_queries(0):
            assert (row.last_seq, row.contact.name) == (0, NASTY[1])
            assert row.assignee is not None and row.assignee.pk == owner.pk
        with django_assert_num_queries(1):  # a deferred field is read when asked for, right
            assert row.contact.custom_attributes["note"] == NASTY[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_lock_query_through_a_foreign_key_locks_what_those_rows_point_to(make_tenant):
    tenant = make_tenant(slug="throughshop", company_name="Through Shop")
    with tenant_context(tenant):
        mine, other = ConversationFactory(), ConversationFactory()

    with tenant_context(tenant), transaction.atomic():
        (tickets,) = queries_run(
            [
                lock_query(
                    Ticket,
                    [mine.pk],
                    ("requester",),
                    through=Conversation._meta.get_field("ticket"),
                )
            ]
        )
        seen = _locked_for_others(
            tenant,
            {
                "its ticket": (Ticket, mine.ticket_id),
                "other ticket": (Ticket, other.ticket_id),
                "the conversation": (Conversation, mine.pk),
            },
        )

    assert [t.pk for t in tickets] == [mine.ticket_id]
    assert tickets[0].requester.pk == mine.contact_id
    assert seen == {"its ticket": "locked", "other ticket": "free", "the conversation": "free"}


@pytest.mark.django_db
def test_queries_run_answers_each_statement_in_order_in_one_call(tenant):
    with tenant_context(tenant):
        conversation = ConversationFactory()
        message = Message(
            conversation=conversation, seq=1, sender_kind=CUSTOMER_KIND, body=NASTY[2]
        )
        conversation.last_seq = 1
        table = table_name(Message)

        with transaction.atomic():
            inserted, updated, counted = queries_run(
                [
                    insert_query([message]),
                    update_query([conversation], ["last_seq"]),
                    Query(f"SELECT count(*), max(body) FROM {table} WHERE seq = $1", [1]),
                ]
            )

        assert (inserted, updated) == (None, None)
        assert counted == [(1, NASTY[2])]  # the later statement sees the earlier ones' rows
        _same_as_orm(message)
        assert Conversation.objects.get(pk=conversation.pk).last_seq == 1


@pytest.mark.django_db
def test_queries_run_stops_at_a_failing_statement_and_raises_djangos_error(tenant):
    with tenant_context(tenant):
        conversation = ConversationFactory()
        first = Message(conversation=conversation, seq=1, sender_kind=CUSTOMER_KIND, body="a")
        twin = Message(conversation=conversation, seq=1, sender_kind=CUSTOMER_KIND, body="b")
        conversation.last_seq = 5

        with pytest.raises(IntegrityError), transaction.atomic():
            queries_run(
                [
                    insert_query([first]),
                    insert_query([twin]),  # the same seq: refused
                    update_query([conversation], ["last_seq"]),
                ]
            )

        assert not Message.objects.exists()
        assert Conversation.objects.get(pk=conversation.pk).last_seq == 0


# ---- rows_insert ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_rows_insert_stores_every_value_and_sets_pks_in_order(tenant, django_assert_num_queries):
    with tenant_context(tenant):
        owner = _owner()
        one, two = ConversationFactory(), ConversationFactory()
        messages = [
            Message(
                conversation=one if n % 2 else two,
                seq=n + 1,
                client_message_id=f"c-{n}" if n % 3 else None,
                sender_kind="agent" if n == 2 else "customer",
                sender_agent=owner if n == 2 else None,
                body=body,
                is_internal=n == 2,
                created_at=WHEN + timedelta(microseconds=n),
            )
            for n, body in enumerate(NASTY)
        ]

        with django_assert_num_queries(1):
            rows_insert(messages)

        pks = [m.pk for m in messages]
        assert all(isinstance(pk, int) for pk in pks)
        assert pks == sorted(pks) and len(set(pks)) == len(pks)
        for message in messages:
            assert message._state.adding is False
            _same_as_orm(message)
        stored = Message.objects.order_by("pk")
        assert [m.body for m in stored] == NASTY
        assert stored[2].sender_agent_id == owner.pk and stored[0].sender_agent_id is None
        assert stored[0].client_message_id is None and stored[1].client_message_id == "c-1"
        assert stored[4].created_at == WHEN + timedelta(microseconds=4)
        # The injection attempt was only text.
        assert Message.objects.filter(body=NASTY[0]).count() == 1
        assert Conversation.objects.count() == 2


@pytest.mark.django_db
def test_rows_insert_stores_json_and_model_defaults(tenant):
    with tenant_context(tenant):
        before = Contact.objects.count()
        contacts = [
            Contact(
                name=NASTY[3],
                custom_attributes={"q": NASTY[0], "n": [1, {"x": None}], "s": NASTY[1]},
                email_failing_since=WHEN,
            ),
            Contact(name="Plain"),  # defaults: {}, a fresh visitor key, now
        ]

        rows_insert(contacts)

        for contact in contacts:
            _same_as_orm(contact)
        assert Contact.objects.count() == before + 2
        fresh = Contact.objects.get(pk=contacts[0].pk)
        assert fresh.custom_attributes == {
            "q": NASTY[0],
            "n": [1, {"x": None}],
            "s": NASTY[1],
        }
        plain = Contact.objects.get(pk=contacts[1].pk)
        assert plain.custom_attributes == {} and plain.email_failing_since is None
        assert plain.visitor_key == contacts[1].visitor_key and len(plain.visitor_key) >= 24


@pytest.mark.django_db
def test_rows_insert_is_refused_like_save_for_what_the_table_refuses(tenant):
    with tenant_context(tenant):
        conversation = ConversationFactory()
        Message.objects.create(conversation=conversation, seq=1, sender_kind="customer", body="a")
        twins = [
            Message(conversation=conversation, seq=2, sender_kind="customer", body="b"),
            Message(conversation=conversation, seq=1, sender_kind="customer", body="dup"),
        ]

        with pytest.raises(IntegrityError), transaction.atomic():
            rows_insert(twins)

        assert list(Message.objects.values_list("seq", "body")) == [(1, "a")]


# ---- rows_update ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_rows_update_changes_only_the_named_fields_of_the_given_rows(
    tenant, django_assert_num_queries
):
    with tenant_context(tenant):
        for _ in range(3):
            ConversationFactory()
        Ticket.objects.update(solved_at=WHEN, tags=["old"], unread_count=4)
        first, second, untouched = Ticket.objects.order_by("pk")
        untouched_before = _values(untouched)
        second_before = _values(Ticket.objects.get(pk=second.pk))

        first.tags, first.solved_at, first.unread_count = ["a", NASTY[0][:50], "ü🎉"], None, 0
        second.tags, second.solved_at, second.unread_count = [], WHEN + timedelta(days=1), 7
        # Changed on the instances but not named: must not reach the rows.
        first.subject = second.subject = "not saved"
        first.channels = ["email"]
        untouched.tags, untouched.unread_count = ["nope"], 99

        with django_assert_num_queries(1):
            rows_update([first, second], ["tags", "solved_at", "unread_count"])

        row1, row2 = Ticket.objects.get(pk=first.pk), Ticket.objects.get(pk=second.pk)
        assert (row1.tags, row1.solved_at, row1.unread_count) == (
            ["a", NASTY[0][:50], "ü🎉"],
            None,
            0,
        )
        assert (row2.tags, row2.solved_at, row2.unread_count) == ([], WHEN + timedelta(days=1), 7)
        assert row1.subject == row2.subject == ""
        assert row1.channels == ["web"]
        assert _values(Ticket.objects.get(pk=untouched.pk)) == untouched_before
        assert {
            k: v for k, v in _values(row2).items() if k not in ("tags", "solved_at", "unread_count")
        } == {
            k: v for k, v in second_before.items() if k not in ("tags", "solved_at", "unread_count")
        }

        # And back: a null datetime becomes a value again, to the microsecond.
        row1.solved_at = WHEN + timedelta(microseconds=7)
        rows_update([row1], ["solved_at"])
        assert Ticket.objects.get(pk=first.pk).solved_at == WHEN + timedelta(microseconds=7)


@pytest.mark.django_db
def test_rows_update_round_trips_foreign_keys_nulls_json_and_text(tenant):
    with tenant_context(tenant):
        owner = _owner()
        snoozed = ConversationFactory(assignee=owner, snoozed_until=WHEN)
        awake = ConversationFactory()
        contacts = [snoozed.contact, awake.contact]

        snoozed.assignee, snoozed.snoozed_until, snoozed.status = None, None, "open"
        awake.assignee, awake.snoozed_until, awake.status = owner, WHEN, "snoozed"
        snoozed.last_seq, awake.last_seq = 2**40, 3
        snoozed.last_message_preview, awake.last_message_preview = NASTY[0], NASTY[3]
        rows_update(
            [snoozed, awake],
            ["assignee", "snoozed_until", "status", "last_seq", "last_message_preview"],
        )
        contacts[0].name, contacts[0].custom_attributes = NASTY[1], {"k": NASTY[0], "l": [None]}
        contacts[1].name, contacts[1].custom_attributes = NASTY[4], {}
        contacts[0].email_failing_since, contacts[1].email_failing_since = WHEN, None
        rows_update(contacts, ["name", "custom_attributes", "email_failing_since"])

        for obj in [snoozed, awake, *contacts]:
            _same_as_orm(obj)
        first, second = Conversation.objects.order_by("pk")
        assert (first.assignee_id, first.snoozed_until, first.status) == (None, None, "open")
        assert (second.assignee_id, second.snoozed_until, second.status) == (
            owner.pk,
            WHEN,
            "snoozed",
        )
        assert first.last_message_preview == NASTY[0] and second.last_message_preview == NASTY[3]
        assert Contact.objects.get(pk=contacts[0].pk).custom_attributes == {
            "k": NASTY[0],
            "l": [None],
        }
        assert Message.objects.count() == 0 and Conversation.objects.count() == 2


@pytest.mark.django_db
def test_rows_update_is_refused_like_save_for_a_negative_count(tenant):
    with tenant_context(tenant):
        conversation = ConversationFactory()
        conversation.agent_unread_count = -1

        with pytest.raises(IntegrityError), transaction.atomic():
            rows_update([conversation], ["agent_unread_count"])

        assert Conversation.objects.get(pk=conversation.pk).agent_unread_count == 0


@pytest.mark.django_db
def test_rows_insert_refuses_text_too_long_for_its_column_like_save(tenant):
    with tenant_context(tenant):
        before = Contact.objects.count()

        with pytest.raises(DataError), transaction.atomic():
            rows_insert([Contact(name="Ana", country="DEU")])

        assert Contact.objects.count() == before


@pytest.mark.django_db
def test_rows_update_refuses_text_too_long_for_its_column_like_save(tenant):
    """save() fails on a value longer than the column; rows_update must not cut it silently."""
    with tenant_context(tenant):
        contact = Contact.objects.create(name="Ana", country="DE", phone="1")
        contact.country, contact.phone = "DEU", "+49 30 1234567"
        with pytest.raises(DataError), transaction.atomic():
            contact.save(update_fields=["country", "phone"])

        with pytest.raises(DataError), transaction.atomic():
            rows_update([contact], ["country", "phone"])

        # Nothing of the refused update reached the row (not even the valid phone).
        assert Contact.objects.values_list("country", "phone").get(pk=contact.pk) == ("DE", "1")
