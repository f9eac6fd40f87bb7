"""Keyset pages for the ticket list: `WHERE (sort, id) < (last seen)`, never an offset or a count.

An offset page reads and throws away every row before it, and a count reads them all; both grow
with the workspace (100,000 tickets is a normal inbox). A keyset page reads `limit + 1` rows along
the index whatever page it is, and rows added or moved while an agent scrolls don't shift it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from helpdesk.object_ids import object_id_parse

CURSOR_MAX_CHARS = 200
CURSOR_PARAM = "cursor"

_M = TypeVar("_M", bound=Model)


@dataclass(frozen=True)
class Position:
    """The last row of a page: its sort value and id, and which sort they belong to."""

    sort: str
    value: datetime
    pk: int


def _ordering(queryset: QuerySet[Any]) -> tuple[str, str]:
    """The (sort field, tie) the selector ordered by, e.g. ("-last_activity_at", "-pk")."""
    order = tuple(str(o) for o in queryset.query.order_by)
    if len(order) != 2 or order[1].lstrip("-") not in ("pk", "id"):
        raise ValueError(f"keyset pages need an ordering on (field, pk), got {order!r}")
    if order[0].startswith("-") != order[1].startswith("-"):
        raise ValueError("the field and its tie must run in the same direction")
    return order[0], order[1]


def cursor_encode(position: Position) -> str:
    raw = json.dumps(
        {"s": position.sort, "v": position.value.isoformat(), "id": position.pk},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(value: str, *, sort: str) -> Position:
    """The position a `next` link carries; a 400 naming `cursor` for anything else, including a
    cursor of another sort (its value would compare a different column)."""
    invalid = serializers.ValidationError(
        {CURSOR_PARAM: ["Not a cursor of this list; follow the `next` link as given."]},
        code="invalid_cursor",
    )
    if len(value) > CURSOR_MAX_CHARS:
        raise invalid
    try:
        data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        when = datetime.fromisoformat(data["v"])
        pk = object_id_parse(data["id"])
        given_sort = data["s"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise invalid from None
    if pk is None or given_sort != sort or when.tzinfo is None:
        raise invalid
    return Position(sort=sort, value=when, pk=pk)


def keyset_after(queryset: QuerySet[_M], position: Position) -> QuerySet[_M]:
    """The rows after `position` in the queryset's own order."""
    sort, _ = _ordering(queryset)
    field = sort.lstrip("-")
    before = "lt" if sort.startswith("-") else "gt"
    # The first condition is a range the index can seek to; the second only settles ties on it.
    value = position.value
    passed = Q(**{f"{field}__{before}": value}) | Q(**{field: value, f"pk__{before}": position.pk})
    return queryset.filter(Q(**{f"{field}__{before}e": value}) & passed)


@dataclass(frozen=True)
class KeysetPage(Generic[_M]):
    rows: list[_M]
    next_url: str | None


def keyset_page(
    queryset: QuerySet[_M], *, request: Request, cursor: str | None, limit: int
) -> KeysetPage[_M]:
    """One page of an ordered queryset and the link to the next one (None on the last page)."""
    sort, _ = _ordering(queryset)
    if cursor:
        queryset = keyset_after(queryset, cursor_decode(cursor, sort=sort))
    # One row more than asked tells whether another page exists, without counting.
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return KeysetPage(rows=rows, next_url=None)
    rows = rows[:limit]
    last = rows[-1]
    position = Position(sort=sort, value=getattr(last, sort.lstrip("-")), pk=last.pk)
    url = replace_query_param(request.build_absolute_uri(), CURSOR_PARAM, cursor_encode(position))
    return KeysetPage(rows=rows, next_url=url)
