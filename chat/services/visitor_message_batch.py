"""Visitors' chat messages, stored many at a time.

Under load the fixed cost of a transaction per message (round trips, commit, the ORM's work for
one row) is what limits a web process. The widget consumer hands each message without
attachments to a queue (helpdesk/realtime/batching.py); what queued while the previous batch was
written comes here together, from every workspace: one Redis call counts every rate limit, then
one transaction starts the conversations of first messages, locks the conversations and their
tickets (workspaces in schema order; in each, conversations before tickets, in id order, as
everywhere), skips repeated sends, and inserts the messages and updates the rows, with every
workspace's statements in two round trips.

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
from django_tenants.utils import tenant_context

from chat.models import Conversation, Message, WidgetSettings
from chat.payloads import visitor_conversation_payload
from chat.rate_limits import RateLimited, rate_hits_many, visitor_message_rules
from chat.selectors.widget import widget_settings_get
from chat.services.messages import MessageRecord, message_events, message_record
from chat.services.visitor_socket import (
    BatchedSend,
    VisitorGone,
    VisitorState,
    message_ack,
    visitor_message_store,
    visitor_socket_first_start,
)
from chat.services.visitors import NewConversation, PageContext, visitor_conversations_new
from chat.visitor_tokens import visitor_token_for
from helpdesk.bulk_rows import (
    Query,
    insert_query,
    lock_query,
    queries_run,
    select_query,
    table_name,
    update_query,
)
from helpdesk.contacts.models import Contact
from helpdesk.realtime.groups import agents_group, broadcast_on_commit
from helpdesk.tickets.models import TICKET_NUMBER_SEQUENCE, Ticket
from helpdesk.tickets.services.opening import ticket_number_of
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


@dataclass
class _Workspace:
    """One workspace's share of a batch, from the rate limits to the answers."""

    tenant: Any  # a Tenant, or the FakeTenant of schema_context
    given: list[BatchedSend]
    outcomes: list[SendOutcome]
    # Indexes into `sends` still to store, in arrival order.
    admitted: list[int]
    sends: list[BatchedSend] = field(default_factory=list)
    new_visitors: list[str] = field(default_factory=list)
    # New visitors' first messages: indexes into `sends`, then their rows, stored with the
    # batch's first round trip.
    fresh: list[int] = field(default_factory=list)
    starts: list[tuple[int, NewConversation]] = field(default_factory=list)
    one_by_one: list[int] = field(default_factory=list)
    error: Exception | None = None
    # Between the two round trips: the locked rows, the retried sends found, what is new.
    conversations: dict[int, Conversation] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    stored: dict[tuple[int, str], Message] = field(default_factory=dict)
    new: list[tuple[int, MessageRecord, Conversation, Ticket]] = field(default_factory=list)
    repeats: list[tuple[int, tuple[int, str]]] = field(default_factory=list)

    def attempt(self) -> _Workspace:
        """A fresh start for the transaction (again, after one that rolled back): the sends as
        given, and the rate limits' refusals kept."""
        admitted = set(self.admitted)
        outcomes = [
            SendOutcome() if index in admitted else outcome
            for index, outcome in enumerate(self.outcomes)
        ]
        return _Workspace(self.tenant, self.given, outcomes, list(self.admitted), list(self.given))


def visitor_messages_store(sends: list[BatchedSend]) -> list[SendOutcome]:
    """Store `sends` (the current workspace's, in arrival order); one outcome per send."""
    (result,) = visitor_messages_store_many([(connection.tenant, sends)])
    if isinstance(result, Exception):
        raise result
    return result


def visitor_messages_store_many(
    batch: list[tuple[Any, list[BatchedSend]]],
) -> list[list[SendOutcome] | Exception]:
    """Store several workspaces' sends (each list in arrival order) in one transaction: one
    outcome list per workspace, in order, or the exception that failed that workspace.

    The fixed cost of a transaction (its round trips, the commit, a rate-limit call) is paid
    once per batch instead of once per workspace (docs/benchmarks.md). If the transaction fails,
    each workspace is written again in a transaction of its own, so one workspace's failure is
    only its own; nothing of the failed attempt remains, and retried sends are stored once.
    """
    workspaces = [
        _Workspace(tenant, list(sends), [SendOutcome() for _ in sends], [])
        for tenant, sends in batch
    ]
    _rate_limits(workspaces)
    # Workspaces in schema order, conversations then tickets in id order within each: every
    # batch (of any process) takes its row locks in the same order.
    todo = sorted((ws for ws in workspaces if ws.admitted), key=lambda ws: ws.tenant.schema_name)
    attempts = [ws.attempt() for ws in todo]
    try:
        with transaction.atomic():
            _store_together(attempts)
    except Exception as exc:
        if len(attempts) == 1:
            attempts[0].error = exc
        else:
            attempts = [ws.attempt() for ws in todo]
            for ws in attempts:
                try:
                    with transaction.atomic():
                        _store_together([ws])
                except Exception as one_exc:
                    ws.error = one_exc
    stored = [ws for ws in attempts if ws.error is None]
    new_visitors = [(ws.tenant.schema_name, v) for ws in stored for v in ws.new_visitors]
    if new_visitors:
        # A new visitor's first message counts against their own budget too (a known one's
        # was counted with the network's), so later ones are counted from it; a first message
        # cannot exceed any sensible limit.
        rate_hits_many(
            [visitor_message_rules(ip=None, visitor=v) for _, v in new_visitors],
            schemas=[schema for schema, _ in new_visitors],
        )
    for ws in stored:
        if ws.one_by_one:
            with tenant_context(ws.tenant):
                _store_one_by_one(ws)
    done = {id(ws.given): ws for ws in attempts}
    results: list[list[SendOutcome] | Exception] = []
    for ws in workspaces:
        attempt = done.get(id(ws.given), ws)
        results.append(attempt.error if attempt.error is not None else attempt.outcomes)
    return results


def _rate_limits(workspaces: list[_Workspace]) -> None:
    """Count every send of the batch in one Redis call; sets each workspace's `admitted`.

    A first message counts against the network's budget (and a known visitor's) before anyone
    is created; a new visitor's own budget cannot be spent yet.
    """
    events, schemas = [], []
    for ws in workspaces:
        for send in ws.given:
            visitor = None if send.contact_id is None else f"c{send.contact_id}"
            events.append(visitor_message_rules(ip=send.ip, visitor=visitor))
            schemas.append(ws.tenant.schema_name)
    decisions = iter(rate_hits_many(events, schemas=schemas))
    for ws in workspaces:
        for index, decision in zip(range(len(ws.given)), decisions, strict=False):
            if decision.allowed:
                ws.admitted.append(index)
            else:
                ws.outcomes[index].error = RateLimited(decision.retry_after)


def _store_together(workspaces: list[_Workspace]) -> None:
    """Everything of the batch that goes in the caller's transaction: the starts of new
    visitors' conversations, then one round trip for every workspace's new rows and locks and
    one for every workspace's writes."""
    for ws in workspaces:
        with tenant_context(ws.tenant):
            _start_conversations(ws)
    _draw_starts([ws for ws in workspaces if ws.fresh])
    live = [ws for ws in workspaces if ws.admitted]
    if not live:
        return
    reads: list[Query] = []
    counts: list[int] = []
    for ws in live:
        with tenant_context(ws.tenant):
            queries = _start_queries(ws) + _lock_queries(ws)
        reads += queries
        counts.append(len(queries))
    results = queries_run(reads)
    writes: list[Query] = []
    end = 0
    for ws, count in zip(live, counts, strict=True):
        end += count
        with tenant_context(ws.tenant):
            writes += _plan(ws, *results[end - 3 : end])
    if writes:
        queries_run(writes)
    for ws in live:
        with tenant_context(ws.tenant):
            _answer(ws)


def _start_conversations(ws: _Workspace) -> None:
    """Start the conversation of every first message, in the batch's transaction (so a message
    that fails leaves no empty conversation behind); keeps in `admitted` the sends to store.

    A new visitor's rows are only built later (`_draw_starts`) and stored with the batch's
    first round trip; a known visitor without a conversation (rare: one who left an email
    first) goes through `visitor_socket_first_start`.
    """
    kept = []
    for index in ws.admitted:
        send = ws.sends[index]
        if send.conversation_id is not None:
            kept.append(index)
        elif send.contact_id is None:
            ws.fresh.append(index)
        else:
            try:
                started = visitor_socket_first_start(send)
            except (ValidationError, VisitorGone) as exc:
                # Refused before anything was written (the widget is off, a form is required).
                ws.outcomes[index].error = exc
                continue
            ws.outcomes[index].state = started.state
            ws.outcomes[index].session = started.session
            ws.sends[index] = replace(
                send,
                conversation_id=started.state.conversation_id,
                contact_id=started.state.contact_id,
            )
            kept.append(index)
    ws.admitted = kept


def _draw_starts(workspaces: list[_Workspace]) -> None:
    """Build the rows of every workspace's new visitors and give them their ids and ticket
    numbers, in one round trip that also reads each workspace's widget settings: their INSERTs
    then go with the locks, and the messages can name them.

    The ids are drawn before the settings are seen; when the widget refuses new chats this way
    (switched off, a pre-chat question to answer first), those ids and ticket numbers are
    skipped, as a rolled-back INSERT would skip them.
    """
    if not workspaces:
        return
    queries = []
    for ws in workspaces:
        with tenant_context(ws.tenant):
            queries += [select_query(WidgetSettings, [1]), _ids_query(len(ws.fresh))]
    results = queries_run(queries)
    for n, ws in enumerate(workspaces):
        settings, ids = results[2 * n], results[2 * n + 1]
        with tenant_context(ws.tenant):
            try:
                # No settings row yet: the ORM's read creates it, as the widget's first load does.
                rows = visitor_conversations_new(
                    [ws.sends[i].context or PageContext() for i in ws.fresh],
                    settings=settings[0] if settings else widget_settings_get(),
                )
            except ValidationError as exc:
                for index in ws.fresh:
                    ws.outcomes[index].error = exc
                continue
        ws.starts = list(zip(ws.fresh, rows, strict=True))
        ws.admitted = sorted(ws.admitted + ws.fresh)
        for (index, start), (contact_id, ticket_id, conversation_id, number) in zip(
            ws.starts, ids, strict=True
        ):
            start.contact.pk = contact_id
            start.ticket.pk, start.ticket.number = ticket_id, ticket_number_of(number)
            start.conversation.pk = conversation_id
            # Point the foreign keys at the ids just given.
            start.ticket.requester = start.contact
            start.conversation.contact, start.conversation.ticket = start.contact, start.ticket
            send = ws.sends[index]
            state = VisitorState(
                contact_id=contact_id,
                conversation_id=conversation_id,
                context=send.context or PageContext(),
            )
            ws.sends[index] = replace(send, conversation_id=conversation_id, contact_id=contact_id)
            ws.outcomes[index].state = state
            ws.new_visitors.append(f"c{contact_id}")


def _ids_query(count: int) -> Query:
    """`count` new ids for contacts, tickets and conversations, and ticket numbers, from the
    sequences the ORM's INSERTs would draw them from (the workspace's own)."""
    schema = connection.ops.quote_name(connection.schema_name)
    return Query(
        "SELECT nextval(pg_get_serial_sequence($1, 'id')), "
        "nextval(pg_get_serial_sequence($2, 'id')), "
        "nextval(pg_get_serial_sequence($3, 'id')), nextval($4::regclass) "
        "FROM generate_series(1, $5)",
        [
            table_name(Contact),
            table_name(Ticket),
            table_name(Conversation),
            f"{schema}.{TICKET_NUMBER_SEQUENCE}",
            count,
        ],
        prepare=True,
    )


def _start_queries(ws: _Workspace) -> list[Query]:
    """The INSERTs of the starts' contacts, tickets and conversations (ids given), and the
    `session` frames that tell each socket its new conversation."""
    if not ws.starts:
        return []
    queries = [
        insert_query([start.contact for _, start in ws.starts], with_pk=True),
        insert_query([start.ticket for _, start in ws.starts], with_pk=True),
        insert_query([start.conversation for _, start in ws.starts], with_pk=True),
    ]
    for index, start in ws.starts:
        ws.outcomes[index].session = {
            "type": "session",
            "token": visitor_token_for(start.contact),
            "conversation": visitor_conversation_payload(start.conversation),
        }
    return queries


def _lock_queries(ws: _Workspace) -> list[Query]:
    """Lock the conversations, then their tickets, and find retried sends (three statements)."""
    conversation_ids = sorted({cid for i in ws.admitted if (cid := ws.sends[i].conversation_id)})
    client_ids = sorted({cmid for i in ws.admitted if (cmid := ws.sends[i].client_message_id)})
    return [
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


def _plan(
    ws: _Workspace,
    locked_conversations: list[Conversation],
    locked_tickets: list[Ticket],
    stored: dict[tuple[int, str], Message],
) -> list[Query]:
    """The records of the new messages, and the statements that write them."""
    ws.conversations = {c.pk: c for c in locked_conversations}
    ws.tickets = {t.pk: t for t in locked_tickets}
    ws.stored = stored
    conversation_fields: dict[int, set[str]] = defaultdict(set)
    ticket_fields: dict[int, set[str]] = defaultdict(set)
    for index in ws.admitted:
        send = ws.sends[index]
        conversation = ws.conversations.get(send.conversation_id or 0)
        if conversation is None:
            ws.outcomes[index].error = VisitorGone()
            continue
        ticket = ws.tickets.get(conversation.ticket_id) if conversation.ticket_id else None
        if ticket is None or ticket.status == Ticket.Status.CLOSED or ticket.merged_into_id:
            # A follow-up ticket to open, or a stale merge: message_create's business.
            ws.one_by_one.append(index)
            continue
        key = (conversation.pk, send.client_message_id or "")
        if send.client_message_id is not None and key in stored:
            # A retry of a stored message (maybe of one earlier in this very batch).
            ws.repeats.append((index, key))
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
        ws.new.append((index, record, conversation, ticket))
        conversation_fields[conversation.pk].update(record.conversation_fields)
        ticket_fields[ticket.pk].update(record.ticket_fields)
    if not ws.new:
        return []
    # The messages, then the conversations and tickets they changed.
    return [
        insert_query([record.message for _, record, _, _ in ws.new]),
        *_updates(ws.conversations, conversation_fields),
        *_updates(ws.tickets, ticket_fields),
    ]


def _answer(ws: _Workspace) -> None:
    """The acks and broadcasts of the workspace's stored messages and retried sends."""
    if ws.new:
        agents = agents_group(connection.schema_name)
        agent_frames: list[str] = []
        for index, record, conversation, ticket in ws.new:
            message = record.message
            # The payloads read message.email; a chat message has none (spares a query each).
            Message.email.related.set_cached_value(message, None)
            outcome = ws.outcomes[index]
            outcome.ack = message_ack(message, created=True, conversation=conversation)
            for group, event in message_events(conversation, ticket, message, []):
                if group == agents:
                    agent_frames.append(event["frame"])
                else:
                    outcome.events.append((group, event))
        # Every agent socket of the workspace hears the whole batch as one channel-layer event
        # (one publish, one delivery per socket), sent once the transaction commits.
        broadcast_on_commit(group=agents, event={"type": "chat.messages", "frames": agent_frames})
    for index, key in ws.repeats:
        ws.outcomes[index].ack = message_ack(ws.stored[key], created=False)


def _store_one_by_one(ws: _Workspace) -> None:
    """The sends the batch left to `message_create`, after it committed."""
    for index in ws.one_by_one:
        send = ws.sends[index]
        assert send.conversation_id is not None and send.contact_id is not None
        # Its broadcasts go through broadcast_on_commit: they are sent after the batch's call.
        try:
            ws.outcomes[index].ack = visitor_message_store(
                conversation_id=send.conversation_id,
                contact_id=send.contact_id,
                client_message_id=send.client_message_id,
                body=send.body,
                attachments=None,
            )
        except Exception as exc:
            # The batch has committed: one message's failure must not fail the others' answers.
            ws.outcomes[index].error = exc


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
        prepare=True,
    )


def _updates(rows: dict[int, Any], fields: dict[int, set[str]]) -> list[Query]:
    """One UPDATE for every changed row, grouped by the set of fields each one changed."""
    by_fields: dict[tuple[str, ...], list[Any]] = defaultdict(list)
    for pk, changed in fields.items():
        by_fields[tuple(sorted(changed))].append(rows[pk])
    return [update_query(objs, names) for names, objs in by_fields.items()]
