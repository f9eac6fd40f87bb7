"""Reads on tickets for agents: the inbox list and one ticket."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from chat.models import Conversation
from helpdesk.object_ids import object_id_parse
from helpdesk.tickets.models import Ticket
from tenants.agents.models import User


class TicketNotFound(ObjectDoesNotExist):
    """Raised alike for a ticket that does not exist and one the caller may not see."""


def _with_people(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return qs.select_related("requester", "assignee")


def ticket_access(*, actor: User, ticket_id: int | str | None) -> Ticket:
    """A ticket of this workspace for one of its agents (every active agent sees every ticket;
    the schema is the tenant boundary, so another workspace's id is simply not found)."""
    pk = object_id_parse(ticket_id)
    if pk is None or not actor.is_active:
        raise TicketNotFound
    found = _with_people(Ticket.objects.filter(pk=pk)).first()
    if found is None:
        raise TicketNotFound
    return found


def ticket_by_number_access(*, actor: User, number: int | str | None) -> Ticket:
    value = object_id_parse(number)
    if value is None or not actor.is_active:
        raise TicketNotFound
    found = _with_people(Ticket.objects.filter(number=value)).first()
    if found is None:
        raise TicketNotFound
    return found


# "active" is what needs work (new, open, pending, on hold); the list opens on it.
TICKET_STATUS_FILTERS = ("active", *Ticket.Status.values, "any")
TICKET_VIEWS = ("all", "mine", "unassigned")
TICKET_SORTS = ("-last_activity_at", "last_activity_at", "-created_at", "created_at")
_ACTIVE = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING, Ticket.Status.ON_HOLD)


@dataclass(frozen=True)
class TicketFilter:
    view: str = "all"
    status: str = "active"
    channel: str | None = None
    assignee_id: int | None = None
    tag: str | None = None
    priority: str | None = None
    requester_id: int | None = None
    search: str = ""
    sort: str = "-last_activity_at"
    # Merged tickets are closed shells; the list leaves them out unless asked.
    include_merged: bool = False


def ticket_list_for_agent(*, actor: User, filters: TicketFilter) -> QuerySet[Ticket]:
    """The inbox list. Filter values are checked by the caller (the API's filter form)."""
    qs = _with_people(Ticket.objects.all())
    if filters.view == "mine":
        qs = qs.filter(assignee=actor)
    elif filters.view == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    if filters.status == "active":
        qs = qs.filter(status__in=_ACTIVE)
    elif filters.status != "any":
        qs = qs.filter(status=filters.status)
    if filters.channel:
        qs = qs.filter(channels__contains=[filters.channel])
    if filters.assignee_id is not None:
        qs = qs.filter(assignee_id=filters.assignee_id)
    if filters.tag:
        qs = qs.filter(tags__contains=[filters.tag])
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.requester_id is not None:
        qs = qs.filter(requester_id=filters.requester_id)
    if not filters.include_merged:
        qs = qs.filter(merged_into__isnull=True)
    if filters.search:
        # One indexed kind of match per term, so a search stays fast on a big workspace: a
        # ticket number, a requester's address (stored lower-case), or words of the subject.
        term = filters.search.strip()
        number = object_id_parse(term.lstrip("#"))
        if number is not None:
            qs = qs.filter(number=number)
        elif "@" in term:
            qs = qs.filter(requester__email=term.lower())
        else:
            qs = qs.filter(subject__icontains=term)
    order = filters.sort if filters.sort in TICKET_SORTS else "-last_activity_at"
    tie = "-pk" if order.startswith("-") else "pk"
    return qs.order_by(order, tie)


def ticket_conversations(*, ticket: Ticket) -> QuerySet[Conversation]:
    """A ticket's conversations, oldest first (the ticket view stacks them in that order)."""
    return (
        Conversation.objects.filter(ticket=ticket)
        .select_related("contact", "assignee")
        .order_by("created_at", "pk")
    )


def ticket_tags_in_use(*, limit: int = 200) -> list[str]:
    """Tags on any ticket, for the filter's suggestions."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT unnest(tags) AS tag FROM tickets_ticket ORDER BY tag LIMIT %s",
            [limit],
        )
        return [row[0] for row in cursor.fetchall()]
