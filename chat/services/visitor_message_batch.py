"""Visitors' chat messages, stored many at a time.

Under load the fixed cost of a transaction per message (round trips, commit, the ORM's work for
one row) is what limits a web process. The widget consumer hands each message of an existing
conversation without attachments to a per-workspace queue (helpdesk/realtime/batching.py); what
queued while the previous batch was written comes here together: one Redis round trip counts
every rate limit, then one transaction locks the conversations and their tickets (in id order;
conversations before tickets, as everywhere), skips repeated sends, and inserts the messages and
updates the rows with one statement each.

The result for each message is what `message_create` would have done: the same sequence
numbers, counters, ticket status changes and broadcasts (chat.services.messages), except that
the conversation and ticket summaries in the broadcasts show the state after the whole batch
(two messages of one conversation in one batch both carry its final counts). Anything out of the
ordinary (a closed or merged ticket, a conversation without a ticket) goes through
`message_create` itself, one at a time, after the batch commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from chat.models import Conversation, Message
from chat.rate_limits import RateLimited, rate_hits_many, visitor_message_rules
from chat.services.messages import MessageRecord, message_events, message_record
from chat.services.visitor_socket import (
    BatchedSend,
    VisitorGone,
    VisitorState,
    message_ack,
    visitor_message_store,
    visitor_socket_first_start,
)
from helpdesk.bulk_rows import (
    Query,
    insert_query,
    lock_query,
    queries_run,
    table_name,
    update_query,
)
from helpdesk.realtime.groups import agents_group, broadcast_on_commit
from helpdesk.tickets.models import Ticket
from tenants.connection import connection

Event = tuple[str, dict[str, Any]]

# What the record and the payloads read of the locked rows (chat/payloads.py,
# helpdesk/tickets/payloads.py); anything else stays deferred, e.g. the start's page context.
_PEOPLE = {
    "contact": ("name", "email", "identity_verified"),
    "requester": ("name", "email", "identity_verified", "email_failing_since"),
    "assignee": ("name",),
}
_READ = {
    "": tuple(f.attname for f in Conversation._meta.concrete_fields if f.name != "started_context"),
    **_PEOPLE,
}
_READ_TICKET = _PEOPLE


@dataclass
class SendOutcome:
    """One message's answer: its `ack` frame and the broadcasts its socket sends now that the
    batch committed (to the visitor's other tabs; agents hear the batch as a whole), or the
    refusal to report to the visitor."""

    ack: dict[str, Any] | None = None
    events: list[Event] = field(default_factory=list)
    error: Exception | None = None
    # A first message: the socket's state and the `session` frame of the conversation it started.
    state: VisitorState | None = None
    session: dict[str, Any] | None = None


def visitor_messages_store(sends: list[BatchedSend]) -> list[SendOutcome]:
    """Store `sends` (one workspace's, in arrival order); one outcome per send, in order."""
    outcomes = [SendOutcome() for _ in sends]
    # A first message counts against the network's budget (and a known visitor's) before
    # anyone is created; a new visitor's own budget cannot be spent yet.
    decisions = rate_hits_many(
        [
            visitor_message_rules(
                ip=send.ip, visitor=None if send.contact_id is None else f"c{send.contact_id}"
            )
            for send in sends
        ]
    )
    admitted = []
    for index, decision in enumerate(decisions):
        if decision.allowed:
            admitted.append(index)
        else:
            outcomes[index].error = RateLimited(decision.retry_after)
    if not admitted:
        return outcomes
    sends = list(sends)
    with transaction.atomic():
        admitted = _start_conversations(sends, admitted, outcomes)
        one_by_one = _store_together(sends, admitted, outcomes)
    for index in one_by_one:
        send = sends[index]
        assert send.conversation_id is not None and send.contact_id is not None
        # Its broadcasts go through broadcast_on_commit: tenant_db sends them after this call.
        try:
            outcomes[index].ack = visitor_message_store(
                conversation_id=send.conversation_id,
                contact_id=send.contact_id,
                client_message_id=send.client_message_id,
                body=send.body,
                attachments=None,
            )
        except Exception as exc:
            # The batch has committed: one message's failure must not fail the others' answers.
            outcomes[index].error = exc
    return outcomes


def _start_conversations(
    sends: list[BatchedSend], admitted: list[int], outcomes: list[SendOutcome]
) -> list[int]:
    """Start the conversation of every first message, in the batch's transaction (so a message
    that fails leaves no empty conversation behind); returns the sends still to store."""
    kept, new_visitors = [], []
    for index in admitted:
        send = sends[index]
        if send.conversation_id is not None:
            kept.append(index)
            continue
        try:
            started = visitor_socket_first_start(send)
        except (ValidationError, VisitorGone) as exc:
            # Refused before anything was written (the widget is off, a form is required).
            outcomes[index].error = exc
            continue
        outcomes[index].state = started.state
        outcomes[index].session = started.session
        sends[index] = replace(
            send,
            conversation_id=started.state.conversation_id,
            contact_id=started.state.contact_id,
        )
        kept.append(index)
        if send.contact_id is None:
            new_visitors.append(f"c{started.state.contact_id}")
    if new_visitors:
        # A new visitor's first message counts against their own budget too (a known one's
        # was counted with the network's), so later ones are counted from it; a first message
        # cannot exceed any sensible limit.
        rate_hits_many([visitor_message_rules(ip=None, visitor=v) for v in new_visitors])
    return kept


def _store_together(
    sends: list[BatchedSend], admitted: list[int], outcomes: list[SendOutcome]
) -> list[int]:
    """Store what the batch can; returns the indexes left for `message_create`."""
    if not admitted:
        return []
    conversation_ids = sorted({cid for i in admitted if (cid := sends[i].conversation_id)})
    client_ids = sorted({cmid for i in admitted if (cmid := sends[i].client_message_id)})
    # One round trip: lock the conversations, then their tickets, and find retried sends.
    locked_conversations, locked_tickets, stored = queries_run(
        [
            lock_query(Conversation, conversation_ids, ("contact", "assignee"), only=_READ),
            lock_query(
                Ticket,
                conversation_ids,
                ("requester", "assignee"),
                only=_READ_TICKET,
                through=Conversation._meta.get_field("ticket"),
            ),
            _stored_by_client_id(conversation_ids, client_ids),
        ]
    )
    conversations = {c.pk: c for c in locked_conversations}
    tickets = {t.pk: t for t in locked_tickets}

    one_by_one: list[int] = []
    new: list[tuple[int, MessageRecord, Conversation, Ticket]] = []
    repeats: list[tuple[int, tuple[int, str]]] = []
    conversation_fields: dict[int, set[str]] = defaultdict(set)
    ticket_fields: dict[int, set[str]] = defaultdict(set)
    for index in admitted:
        send = sends[index]
        conversation = conversations.get(send.conversation_id or 0)
        if conversation is None:
            outcomes[index].error = VisitorGone()
            continue
        ticket = tickets.get(conversation.ticket_id) if conversation.ticket_id else None
        if ticket is None or ticket.status == Ticket.Status.CLOSED or ticket.merged_into_id:
            # A follow-up ticket to open, or a stale merge: message_create's business.
            one_by_one.append(index)
            continue
        key = (conversation.pk, send.client_message_id or "")
        if send.client_message_id is not None and key in stored:
            # A retry of a stored message (maybe of one earlier in this very batch).
            repeats.append((index, key))
            continue
        record = message_record(
            conversation,
            ticket,
            sender_kind=Message.SenderKind.CUSTOMER,
            body=send.body,
            client_message_id=send.client_message_id,
        )
        if send.client_message_id is not None:
            stored[key] = record.message
        new.append((index, record, conversation, ticket))
        conversation_fields[conversation.pk].update(record.conversation_fields)
        ticket_fields[ticket.pk].update(record.ticket_fields)

    if new:
        agents = agents_group(connection.schema_name)
        agent_frames: list[str] = []
        # One round trip: the messages, then the conversations and tickets they changed.
        queries_run(
            [
                insert_query([record.message for _, record, _, _ in new]),
                *_updates(conversations, conversation_fields),
                *_updates(tickets, ticket_fields),
            ]
        )
        for index, record, conversation, ticket in new:
            message = record.message
            # The payloads read message.email; a chat message has none (spares a query each).
            Message.email.related.set_cached_value(message, None)
            outcomes[index].ack = message_ack(message, created=True, conversation=conversation)
            for group, event in message_events(conversation, ticket, message, []):
                if group == agents:
                    agent_frames.append(event["frame"])
                else:
                    outcomes[index].events.append((group, event))
        # Every agent socket of the workspace hears the whole batch as one channel-layer event
        # (one publish, one delivery per socket), sent once the transaction commits.
        broadcast_on_commit(group=agents, event={"type": "chat.messages", "frames": agent_frames})
    for index, key in repeats:
        outcomes[index].ack = message_ack(stored[key], created=False)
    return one_by_one


def _stored_by_client_id(conversation_ids: list[int], client_ids: list[str]) -> Query:
    """Messages already stored under these client ids (retried sends), as the ack needs them.

    Plain SQL: on this path the ORM's compiling of a two-condition filter cost more than the
    query (docs/benchmarks.md).
    """
    table = table_name(Message)

    def read(rows: list[tuple]) -> dict[tuple[int, str], Message]:
        return {
            (conversation_id, client_id): Message(
                pk=pk, conversation_id=conversation_id, client_message_id=client_id, seq=seq
            )
            for pk, conversation_id, client_id, seq in rows
        }

    return Query(
        f"SELECT id, conversation_id, client_message_id, seq FROM {table} "  # noqa: S608
        "WHERE conversation_id = ANY($1) AND client_message_id = ANY($2)",
        [conversation_ids, client_ids],
        read,
    )


def _updates(rows: dict[int, Any], fields: dict[int, set[str]]) -> list[Query]:
    """One UPDATE for every changed row, grouped by the set of fields each one changed."""
    by_fields: dict[tuple[str, ...], list[Any]] = defaultdict(list)
    for pk, changed in fields.items():
        by_fields[tuple(sorted(changed))].append(rows[pk])
    return [update_query(objs, names) for names, objs in by_fields.items()]
