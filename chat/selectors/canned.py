"""Reads of canned responses. The schema is the tenant boundary: only this workspace's rows."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from chat.models import CannedResponse
from helpdesk.object_ids import object_id_parse
from tenants.agents.models import User

SEARCH_LIMIT = 20
QUERY_MAX_LENGTH = 100


def canned_response_list() -> QuerySet[CannedResponse]:
    """Every canned response, by shortcut (the order agents scan them in)."""
    return CannedResponse.objects.order_by("shortcut", "pk")


def canned_response_search(*, query: str, limit: int = SEARCH_LIMIT) -> list[CannedResponse]:
    """For the composer's "/" menu: shortcuts or titles starting with what the agent typed."""
    query = query.strip().removeprefix("/")[:QUERY_MAX_LENGTH]
    if "\x00" in query:  # stored text never contains NUL (and PostgreSQL refuses it)
        return []
    responses = canned_response_list().only("id", "shortcut", "title", "body")
    if query:
        responses = responses.filter(Q(shortcut__istartswith=query) | Q(title__istartswith=query))
    return list(responses[:limit])


def canned_response_access(*, actor: User, canned_response_id: int | str) -> CannedResponse:
    """One of this workspace's canned responses; a missing id and one of another workspace
    (which can't exist in this schema) are the same 404."""
    pk = object_id_parse(canned_response_id)
    if pk is None:
        raise Http404
    try:
        return CannedResponse.objects.get(pk=pk)
    except CannedResponse.DoesNotExist:
        raise Http404 from None
