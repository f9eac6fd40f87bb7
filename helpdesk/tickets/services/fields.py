"""Agent edits of a ticket: assignee, priority, tags, subject."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from helpdesk.tickets.models import Ticket
from helpdesk.tickets.services.broadcast import ticket_broadcast_changed
from helpdesk.tickets.services.locking import ticket_lock
from helpdesk.tickets.services.opening import subject_clean
from tenants.agents.models import User

TAGS_MAX = 20
TAG_MAX_CHARS = 50
# Letters of any script, digits, and - _ . : / — no spaces, so tags stay one word to filter on.
_TAG_RE = re.compile(r"^[\w\-.:/]+$")


def _editable(ticket: Ticket) -> None:
    if ticket.merged_into_id is not None:
        raise ValidationError(
            "This ticket was merged into another one; change that ticket instead.",
            code="ticket_merged",
        )


def ticket_assign(*, ticket: Ticket, assignee_id: int | None, actor: User | None) -> Ticket:
    """Give the ticket (and its conversations) to an active agent, or to nobody (None)."""
    from chat.services.conversations import conversation_broadcast_changed

    assignee = None
    if assignee_id is not None:
        assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
        if assignee is None:
            raise ValidationError("No such active agent.", code="unknown_agent")
    with transaction.atomic():
        locked, conversations = ticket_lock(ticket.pk)
        _editable(locked)
        wanted = assignee.pk if assignee else None
        for conversation in conversations:
            if conversation.assignee_id != wanted:
                conversation.assignee = assignee
                conversation.save(update_fields=["assignee"])
                conversation_broadcast_changed(conversation, tell_visitor=False)
        if locked.assignee_id != wanted:
            locked.assignee = assignee
            locked.save(update_fields=["assignee"])
            ticket_broadcast_changed(locked)
    return locked


def ticket_priority_set(*, ticket: Ticket, priority: str, actor: User | None) -> Ticket:
    if priority not in Ticket.Priority.values:
        raise ValidationError(
            "Priority must be low, normal, high or urgent.", code="invalid_priority"
        )
    with transaction.atomic():
        locked, _ = ticket_lock(ticket.pk)
        _editable(locked)
        if locked.priority != priority:
            locked.priority = priority
            locked.save(update_fields=["priority"])
            ticket_broadcast_changed(locked)
    return locked


def tags_clean(values: object) -> list[str]:
    """Lower-cased, unique, in the order given; refused whole when one is unusable."""
    if not isinstance(values, (list, tuple)):
        raise ValidationError("Tags must be a list of words.", code="invalid_tags")
    tags: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise ValidationError("Tags must be a list of words.", code="invalid_tags")
        tag = value.strip().lower()
        if not tag:
            continue
        if len(tag) > TAG_MAX_CHARS or not _TAG_RE.match(tag):
            raise ValidationError(
                f"“{tag[:TAG_MAX_CHARS]}” is not a usable tag: one word of at most "
                f"{TAG_MAX_CHARS} letters, digits or - _ . : /",
                code="invalid_tag",
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise ValidationError(f"At most {TAGS_MAX} tags per ticket.", code="too_many_tags")
    return tags


def ticket_tags_set(*, ticket: Ticket, tags: Sequence[object], actor: User | None) -> Ticket:
    cleaned = tags_clean(tags)
    with transaction.atomic():
        locked, _ = ticket_lock(ticket.pk)
        _editable(locked)
        if list(locked.tags) != cleaned:
            locked.tags = cleaned
            locked.save(update_fields=["tags"])
            ticket_broadcast_changed(locked)
    return locked


def ticket_subject_set(*, ticket: Ticket, subject: object, actor: User | None) -> Ticket:
    if not isinstance(subject, str):
        raise ValidationError("The subject must be text.", code="invalid_subject")
    if "\r" in subject or "\n" in subject:
        raise ValidationError("The subject must be one line.", code="subject_newline")
    cleaned = subject_clean(subject)
    with transaction.atomic():
        locked, _ = ticket_lock(ticket.pk)
        _editable(locked)
        if locked.subject != cleaned:
            locked.subject = cleaned
            locked.save(update_fields=["subject"])
            ticket_broadcast_changed(locked)
    return locked
