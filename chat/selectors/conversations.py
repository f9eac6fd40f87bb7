"""Reads on conversations, for agents (inbox, API) and for visitors (widget)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Q, QuerySet

from chat.models import Conversation
from helpdesk.contacts.models import Contact
from helpdesk.object_ids import object_id_parse
from tenants.agents.models import User


class ConversationNotFound(ObjectDoesNotExist):
    """Raised alike for a conversation that does not exist and one the caller may not see."""


def _for_summary(qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
    return qs.select_related("contact", "assignee")


def conversation_access(*, actor: User, conversation_id: int | str | None) -> Conversation:
    """A conversation of this workspace for one of its agents.

    Every active agent sees every conversation of the workspace (the inbox rule); the schema is
    the tenant boundary, so an id from another workspace is simply not found.
    """
    pk = object_id_parse(conversation_id)
    if pk is None or not actor.is_active:
        raise ConversationNotFound
    found = _for_summary(Conversation.objects.filter(pk=pk)).first()
    if found is None:
        raise ConversationNotFound
    return found


def visitor_conversation_access(
    *, contact: Contact, conversation_id: int | str | None
) -> Conversation:
    """A conversation of this visitor's contact; anyone else's is not found."""
    pk = object_id_parse(conversation_id)
    found = Conversation.objects.filter(pk=pk, contact=contact).first() if pk is not None else None
    if found is None:
        raise ConversationNotFound
    return found


def visitor_conversation_current(*, contact: Contact) -> Conversation | None:
    """The visitor's web chat: the newest one, whatever its status (a new message reopens it)."""
    return (
        Conversation.objects.filter(contact=contact, channel=Conversation.Channel.WEB)
        .order_by("-last_activity_at", "-pk")
        .first()
    )


INBOX_VIEWS = ("mine", "unassigned", "all")
INBOX_STATUSES = ("open", "pending", "snoozed", "resolved", "any")


@dataclass(frozen=True)
class InboxFilter:
    view: str = "all"  # mine | unassigned | all
    status: str = "open"  # open | pending | snoozed | resolved | any
    contact_id: int | None = None


def conversation_list_for_agent(*, actor: User, filters: InboxFilter) -> QuerySet[Conversation]:
    """The inbox list, newest activity first. Unknown filter values are refused by the caller."""
    qs = _for_summary(Conversation.objects.all())
    if filters.view == "mine":
        qs = qs.filter(assignee=actor)
    elif filters.view == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    if filters.status != "any":
        qs = qs.filter(status=filters.status)
    if filters.contact_id is not None:
        qs = qs.filter(contact_id=filters.contact_id)
    return qs.order_by("-last_activity_at", "-pk")


@dataclass(frozen=True)
class InboxCounts:
    mine: int
    unassigned: int
    all: int


def inbox_counts(*, actor: User, status: str = "open") -> InboxCounts:
    """How many conversations each inbox view holds for a status, in one query."""
    qs = Conversation.objects.all()
    if status != "any":
        qs = qs.filter(status=status)
    totals = qs.aggregate(
        mine=Count("pk", filter=Q(assignee=actor)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        all=Count("pk"),
    )
    return InboxCounts(**totals)


def contact_conversations(
    *, contact_id: int, exclude_id: int | None = None
) -> QuerySet[Conversation]:
    """A contact's other conversations, newest first (customer panel)."""
    qs = Conversation.objects.filter(contact_id=contact_id).order_by("-last_activity_at", "-pk")
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs
