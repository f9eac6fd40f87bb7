"""Opening tickets: every new chat or email thread starts one (DOMAIN.md)."""

from __future__ import annotations

from django.db import connection as db_connection

from helpdesk.contacts.models import Contact
from helpdesk.tickets.models import TICKET_NUMBER_OFFSET, TICKET_NUMBER_SEQUENCE, Ticket

SUBJECT_MAX = 300


def ticket_number_next() -> int:
    # The sequence name resolves through the search path, so each workspace counts on its own.
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [TICKET_NUMBER_SEQUENCE])
        return ticket_number_of(cursor.fetchone()[0])


def ticket_number_of(drawn: int) -> int:
    """The ticket number for a value drawn from the workspace's TICKET_NUMBER_SEQUENCE."""
    return TICKET_NUMBER_OFFSET + int(drawn)


def subject_clean(value: str) -> str:
    """One line: CR/LF and other whitespace runs become single spaces (no header injection)."""
    return " ".join(str(value).split())[:SUBJECT_MAX]


def ticket_new(
    *,
    requester: Contact,
    channel: str,
    subject: str = "",
    follow_up_of: Ticket | None = None,
    number: int = 0,
) -> Ticket:
    """The unsaved ticket `ticket_create` stores (the batched chat path stores many at once,
    numbering them itself)."""
    return Ticket(
        number=number,
        subject=subject_clean(subject),
        requester=requester,
        channels=[channel],
        follow_up_of=follow_up_of,
    )


def ticket_create(
    *,
    requester: Contact,
    channel: str,
    subject: str = "",
    follow_up_of: Ticket | None = None,
) -> Ticket:
    """A new ticket for a conversation being opened in the same transaction."""
    ticket = ticket_new(
        requester=requester,
        channel=channel,
        subject=subject,
        follow_up_of=follow_up_of,
        number=ticket_number_next(),
    )
    ticket.save(force_insert=True)
    return ticket
