"""/api/v1/contacts/: searching the workspace's customers and reading one with their chats."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from helpdesk.contacts.api import contact_payload
from helpdesk.contacts.models import Contact
from tenants.connection import connection as tenant_connection
from tests.chat.api_helpers import conversation_in, messages_in
from tests.factories import host_of
from tests.helpdesk.api.helpers import OwnerApi, assert_error, bearer, owner_of, token_for

pytestmark = pytest.mark.django_db

LIST = "/api/v1/contacts/"
XSS = "<img src=x onerror=alert(1)>"
# Host, token with its agent, count, page; plus django-tenants' SET search_path.
LIST_QUERIES_MAX = 8


def detail(contact_id) -> str:
    return f"/api/v1/contacts/{contact_id}/"


def contacts_in(tenant, *people: tuple[str, str]) -> list[Contact]:
    with tenant_context(tenant):
        made = [Contact.objects.create(name=name, email=email) for name, email in people]
    tenant_connection.set_schema_to_public()
    return made


@pytest.fixture
def api(client, tenant):
    return OwnerApi(client, tenant)


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["name"] for c in response.json()["results"]]


def test_the_list_shows_contacts_newest_first_without_their_visitor_keys(api, tenant):
    ana, _ = contacts_in(tenant, ("Ana", "ana@example.com"), ("", "ben@example.com"))

    response = api.get(LIST)

    assert _names(response) == ["ben@example.com", "Ana"]  # no name: the email stands in
    with tenant_context(tenant):
        assert response.json()["results"][1] == contact_payload(Contact.objects.get(pk=ana.pk))
    assert ana.visitor_key not in response.content.decode()
    assert "visitor_key" not in response.content.decode()


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("ana", ["Juliana", "Ana Lima"]),
        ("EXAMPLE.ORG", ["Ben"]),
        ("  lima ", ["Ana Lima"]),
        ("", ["Ben", "Juliana", "Ana Lima"]),
        ("' OR 1=1 --", []),
        ("%", ["100% Cotton"]),
        ("_", ["snake_case"]),
        ('{"$regex": ".*"}', []),
    ],
)
def test_search_matches_part_of_the_name_or_email_and_nothing_else(api, tenant, q, names):
    contacts_in(
        tenant,
        ("Ana Lima", "ana@example.com"),
        ("Juliana", "j@example.com"),
        ("Ben", "ben@example.org"),
    )
    if q in ("%", "_"):
        # Wildcards in SQL LIKE; here only the literal character matches.
        contacts_in(tenant, ("100% Cotton", ""), ("snake_case", ""))

    response = api.get(LIST, q=q)

    assert _names(response) == names


def test_operator_shaped_parameters_are_not_interpreted(api, tenant):
    contacts_in(tenant, ("Ana", ""), ("Ben", ""))

    response = api.get(LIST + "?q[$regex]=.*&q[$ne]=x")

    # Not a parameter this endpoint knows: ignored, so the unfiltered list.
    assert _names(response) == ["Ben", "Ana"]


def test_a_search_longer_than_allowed_is_a_400(api, tenant):
    error = assert_error(api.get(LIST, q="x" * 201), 400, "invalid")

    assert "q" in error["details"]


def test_the_list_is_paginated(api, tenant):
    contacts_in(tenant, *[(f"C{n}", "") for n in range(5)])

    first = api.get(LIST, limit=2).json()
    second = api.get(first["next"]).json()

    assert first["count"] == 5
    assert [c["name"] for c in first["results"]] == ["C4", "C3"]
    assert [c["name"] for c in second["results"]] == ["C2", "C1"]


def test_list_query_count_does_not_grow_with_the_contacts(
    client, tenant, django_assert_max_num_queries
):
    host = host_of(tenant)
    token = token_for(tenant, owner_of(tenant))
    client.get(LIST, HTTP_HOST=host, **bearer(token))  # marks the token used

    def listed() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST + "?limit=200", HTTP_HOST=host, **bearer(token))
        return len(response.json()["results"]), len(queries)

    contacts_in(tenant, *[(f"A{n}", f"a{n}@example.com") for n in range(3)])
    with django_assert_max_num_queries(LIST_QUERIES_MAX):
        three, queries_for_three = listed()
    contacts_in(tenant, *[(f"B{n}", f"b{n}@example.com") for n in range(10)])
    with django_assert_max_num_queries(LIST_QUERIES_MAX):
        thirteen, queries_for_thirteen = listed()

    assert (three, thirteen) == (3, 13)
    assert queries_for_three == queries_for_thirteen


def test_one_contact_with_their_conversations_newest_first(api, tenant):
    (ana,) = contacts_in(tenant, ("Ana", "ana@example.com"))
    old = conversation_in(tenant, contact=ana, status="resolved", age_minutes=60)
    new = conversation_in(tenant, contact=ana, age_minutes=1)
    conversation_in(tenant, name="Someone else")
    messages_in(tenant, old, ["Where is my order?"])

    response = api.get(detail(ana.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["email"]) == ("Ana", "ana@example.com")
    assert [c["id"] for c in body["conversations"]] == [old.pk, new.pk]  # the message bumped it
    assert body["conversations"][0]["last_message_preview"] == "Where is my order?"


def test_contact_text_comes_back_verbatim_as_json(api, tenant):
    (contact,) = contacts_in(tenant, (XSS, ""))

    response = api.get(detail(contact.pk))

    assert response["Content-Type"].startswith("application/json")
    assert response.json()["name"] == XSS


def test_without_credentials_it_is_a_401(client, tenant):
    contacts_in(tenant, ("Ana", ""))

    assert_error(client.get(LIST, HTTP_HOST=host_of(tenant)), 401, "not_authenticated")


# ---- Cross-tenant -------------------------------------------------------------------------


def test_the_same_id_in_two_workspaces_reads_only_the_callers_own(api, tenant, other_tenant):
    (mine,) = contacts_in(tenant, ("Mine", "same@example.com"))
    (theirs,) = contacts_in(other_tenant, ("Theirs", "same@example.com"))
    assert mine.pk == theirs.pk

    one = api.get(detail(mine.pk)).json()
    listed = api.get(LIST, q="same").json()

    assert one["name"] == "Mine"
    assert [c["name"] for c in listed["results"]] == ["Mine"]


def test_another_workspaces_contact_is_404_exactly_like_a_missing_one(api, tenant, other_tenant):
    theirs = contacts_in(other_tenant, *[(f"Theirs {n}", "") for n in range(3)])[-1]

    foreign = api.get(detail(theirs.pk))
    missing = api.get(detail(987654))

    assert_error(foreign, 404, "not_found")
    assert foreign.content == missing.content


@pytest.mark.parametrize("contact_id", ["abc", "1.5", "-1", "99999999999999999999999", "0"])
def test_nonsense_ids_are_json_404s(api, tenant, contact_id):
    assert_error(api.get(detail(contact_id)), 404, "not_found")
