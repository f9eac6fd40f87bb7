"""Settings → Canned responses (agents read, admins manage) and the composer's JSON lookup."""

from __future__ import annotations

import json

import pytest

from chat.models import CannedResponse
from tests.factories import AgentFactory
from tests.tenants.agents.clients import client_for, in_schema, owner_of, signed_in

pytestmark = pytest.mark.django_db

LIST = "/settings/canned-responses/"
NEW = "/settings/canned-responses/new/"
SEARCH = "/inbox/canned-responses.json"
XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = b"&lt;img src=x onerror=alert(1)&gt;"


def _edit(pk: int) -> str:
    return f"/settings/canned-responses/{pk}/edit/"


def _delete(pk: int) -> str:
    return f"/settings/canned-responses/{pk}/delete/"


def _make(tenant, *items: tuple[str, str, str]) -> list[int]:
    def create():
        return [CannedResponse.objects.create(shortcut=s, title=t, body=b).pk for s, t, b in items]

    return in_schema(tenant, create)


def _all(tenant) -> list[tuple[str, str, str]]:
    return in_schema(
        tenant,
        lambda: list(
            CannedResponse.objects.order_by("pk").values_list("shortcut", "title", "body")
        ),
    )


def _form(**overrides) -> dict:
    data = {"shortcut": "shipping", "title": "Shipping times", "body": "We ship in 2 days."}
    data.update(overrides)
    return data


def test_admin_creates_edits_and_deletes(tenant):
    owner = owner_of(tenant)
    client = signed_in(tenant, owner)

    created = client.post(NEW, _form(shortcut="/Shipping-Time", body="Line one\r\nLine two"))

    assert created.status_code == 302 and created["Location"] == LIST
    assert _all(tenant) == [("shipping-time", "Shipping times", "Line one\nLine two")]
    row = in_schema(tenant, lambda: CannedResponse.objects.get())
    assert row.created_by_id == owner.pk
    page = client.get(LIST).content.decode()
    assert "/shipping-time" in page and "Shipping times" in page
    assert "Canned response /shipping-time created." in page

    edited = client.post(_edit(row.pk), _form(shortcut="ship", title="Delivery", body="Soon."))

    assert edited.status_code == 302
    assert _all(tenant) == [("ship", "Delivery", "Soon.")]
    assert b'value="ship"' in client.get(_edit(row.pk)).content

    confirm = client.get(_delete(row.pk))
    assert confirm.status_code == 200 and b'Delete <span class="mono">/ship</span>?' in (
        confirm.content
    )
    assert _all(tenant) == [("ship", "Delivery", "Soon.")]  # asking deletes nothing

    deleted = client.post(_delete(row.pk))

    assert deleted.status_code == 302
    assert _all(tenant) == []
    assert b"No canned responses yet" in client.get(LIST).content


def test_keeping_the_same_shortcut_on_edit_is_not_a_clash(tenant):
    [pk] = _make(tenant, ("returns", "Returns", "30 days."))

    response = signed_in(tenant, owner_of(tenant)).post(
        _edit(pk), _form(shortcut="returns", title="Returns policy", body="30 days.")
    )

    assert response.status_code == 302
    assert _all(tenant) == [("returns", "Returns policy", "30 days.")]


def test_empty_state_for_admins_offers_to_create(tenant):
    page = signed_in(tenant, owner_of(tenant)).get(LIST).content

    assert b"No canned responses yet" in page
    assert b'href="/settings/canned-responses/new/"' in page


def test_agent_may_read_the_list_but_not_change_it(tenant):
    [pk] = _make(tenant, ("returns", "Returns", "30 days."))
    client = signed_in(tenant, AgentFactory(tenant=tenant))

    page = client.get(LIST)
    refused = [
        client.get(NEW),
        client.post(NEW, _form()),
        client.get(_edit(pk)),
        client.post(_edit(pk), _form(shortcut="hijacked")),
        client.get(_delete(pk)),
        client.post(_delete(pk)),
    ]

    assert page.status_code == 200
    assert b"/returns" in page.content and b"Owners and admins manage the list." in page.content
    assert _edit(pk).encode() not in page.content and NEW.encode() not in page.content
    assert [r.status_code for r in refused] == [403] * 6
    assert _all(tenant) == [("returns", "Returns", "30 days.")]
    # Agents find the list in their sidebar (admins under Settings, which agents don't have).
    assert b'href="/settings/canned-responses/"' in client.get("/").content


def test_signed_out_visitors_get_nothing(tenant):
    _make(tenant, ("returns", "Returns", "30 days."))
    client = client_for(tenant)

    for response in (client.get(LIST), client.get(SEARCH), client.post(NEW, _form())):
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert len(_all(tenant)) == 1


INVALID = [
    ({"shortcut": ""}, "shortcut", "Enter a shortcut"),
    ({"shortcut": "has space"}, "shortcut", "No spaces"),
    ({"shortcut": "-dash-first"}, "shortcut", "starting with a letter or digit"),
    ({"shortcut": "x" * 41}, "shortcut", "up to 40"),
    ({"shortcut": "émoji"}, "shortcut", "lowercase letters"),
    ({"shortcut": "<script>"}, "shortcut", "lowercase letters"),
    ({"title": ""}, "title", "Enter a title"),
    ({"title": "x" * 121}, "title", "at most 120"),
    ({"title": "Returns\u202eBcc"}, "title", "letters, digits and punctuation"),
    ({"body": ""}, "body", "Write the reply"),
    ({"body": "x" * 5001}, "body", "5,000 characters"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), INVALID)
def test_invalid_input_shows_an_error_and_stores_nothing(tenant, overrides, field, message):
    client = signed_in(tenant, owner_of(tenant))

    response = client.post(NEW, _form(**overrides))

    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message.lower() in errors.lower(), errors
    assert _all(tenant) == []


def test_a_title_on_several_lines_is_saved_as_one(tenant):
    response = signed_in(tenant, owner_of(tenant)).post(
        NEW, _form(title="Returns\r\nBcc: x@example.com")
    )

    assert response.status_code == 302
    assert _all(tenant)[0][1] == "Returns Bcc: x@example.com"


def test_a_body_of_5000_characters_with_line_breaks_fits(tenant):
    body = ("x" * 99 + "\r\n") * 49 + "x" * 100  # 5,000 once CRLF counts as one character

    response = signed_in(tenant, owner_of(tenant)).post(NEW, _form(body=body))

    assert response.status_code == 302
    assert len(_all(tenant)[0][2]) == 5000


def test_a_taken_shortcut_is_a_clear_error(tenant):
    [_, second] = _make(tenant, ("returns", "Returns", "a"), ("shipping", "Shipping", "b"))
    client = signed_in(tenant, owner_of(tenant))

    create = client.post(NEW, _form(shortcut="Returns"))
    edit = client.post(_edit(second), _form(shortcut="returns"))

    for response in (create, edit):
        assert response.status_code == 400
        assert "/returns is already used by another canned response" in response.content.decode()
    assert _all(tenant) == [("returns", "Returns", "a"), ("shipping", "Shipping", "b")]


def test_the_same_shortcut_may_exist_in_another_workspace(tenant, other_tenant):
    _make(other_tenant, ("returns", "Their returns", "x"))

    response = signed_in(tenant, owner_of(tenant)).post(NEW, _form(shortcut="returns"))

    assert response.status_code == 302
    assert _all(tenant)[0][0] == "returns"


def test_markup_in_title_and_body_renders_inert(tenant):
    client = signed_in(tenant, owner_of(tenant))
    client.post(NEW, _form(title=XSS, body=f"{XSS}\n[x](javascript:alert(1))"))
    [pk] = in_schema(tenant, lambda: list(CannedResponse.objects.values_list("pk", flat=True)))

    pages = [
        client.get(LIST).content,
        client.get(_edit(pk)).content,
        client.get(_delete(pk)).content,
    ]
    data = client.get(SEARCH).json()

    for page in pages:
        assert b"<img src=x" not in page
        assert XSS_ESCAPED in page
        assert b'href="javascript' not in page
    assert data[0]["title"] == XSS  # JSON carries the text; the composer shows it as text


def test_another_workspaces_response_is_not_found_and_left_alone(tenant, other_tenant):
    _make(tenant, ("mine", "Mine", "m"))
    theirs = _make(other_tenant, ("a", "Theirs A", "x"), ("b", "Theirs B", "y"))
    client = signed_in(tenant, owner_of(tenant))

    for pk in theirs[1:]:  # an id that exists only over there
        responses = [
            client.get(_edit(pk)),
            client.post(_edit(pk), _form(shortcut="pwned")),
            client.get(_delete(pk)),
            client.post(_delete(pk)),
        ]
        assert [r.status_code for r in responses] == [404] * 4
    missing = client.post(_delete(999999))

    assert missing.status_code == 404
    assert _all(other_tenant) == [("a", "Theirs A", "x"), ("b", "Theirs B", "y")]
    assert _all(tenant) == [("mine", "Mine", "m")]


def test_same_id_in_two_workspaces_edits_only_mine(tenant, other_tenant):
    [mine] = _make(tenant, ("mine", "Mine", "m"))
    [theirs] = _make(other_tenant, ("theirs", "Theirs", "t"))
    assert mine == theirs  # each schema numbers its own rows

    signed_in(tenant, owner_of(tenant)).post(_delete(mine))

    assert _all(tenant) == []
    assert _all(other_tenant) == [("theirs", "Theirs", "t")]


def test_search_returns_this_workspaces_responses_only(tenant, other_tenant):
    _make(tenant, ("returns", "Returns policy", "30 days."), ("shipping", "Delivery", "2 days."))
    _make(other_tenant, ("returns-eu", "Their returns", "secret"), ("r2", "Their r2", "x"))
    client = signed_in(tenant, AgentFactory(tenant=tenant))

    everything = client.get(SEARCH)
    by_shortcut = client.get(SEARCH, {"q": "/ret"}).json()
    by_title = client.get(SEARCH, {"q": "deliv"}).json()
    nothing = client.get(SEARCH, {"q": "their"}).json()

    assert everything.status_code == 200 and everything["Content-Type"] == "application/json"
    rows = everything.json()
    assert [r["shortcut"] for r in rows] == ["returns", "shipping"]
    assert set(rows[0]) == {"id", "shortcut", "title", "body"}
    assert [r["shortcut"] for r in by_shortcut] == ["returns"]
    assert [r["shortcut"] for r in by_title] == ["shipping"]
    assert nothing == []
    assert "secret" not in json.dumps(rows)


def test_search_treats_odd_queries_as_text(tenant):
    _make(tenant, ("returns", "Returns", "a"))
    client = signed_in(tenant, AgentFactory(tenant=tenant))

    for q in ("%", "_", "' OR 1=1 --", '{"$regex": ".*"}', "x" * 5000, "r\x00"):
        assert client.get(SEARCH, {"q": q}).json() == [], q
    assert len(client.get(SEARCH, {"q": ["zzz", "r"]}).json()) == 1  # the last value counts


def test_search_returns_at_most_20(tenant):
    _make(tenant, *[(f"reply-{i:02}", f"Reply {i}", "x") for i in range(25)])

    rows = signed_in(tenant, AgentFactory(tenant=tenant)).get(SEARCH, {"q": "reply"}).json()

    assert len(rows) == 20 and rows[0]["shortcut"] == "reply-00"


def test_list_page_queries_do_not_grow_with_the_list(tenant, django_assert_max_num_queries):
    _make(tenant, *[(f"reply-{i:02}", f"Reply {i}", "x" * 300) for i in range(40)])
    admin = signed_in(tenant, owner_of(tenant))
    agent = signed_in(tenant, AgentFactory(tenant=tenant))
    admin.get(LIST)  # warm the per-process caches (content types, site)

    with django_assert_max_num_queries(10):
        page = admin.get(LIST)
    with django_assert_max_num_queries(10):
        agent_page = agent.get(LIST)

    assert page.content.count(b"canned-shortcut") == 40
    assert agent_page.content.count(b"canned-shortcut") == 40


def test_search_endpoint_queries_are_few(tenant, django_assert_max_num_queries):
    _make(tenant, *[(f"reply-{i:02}", f"Reply {i}", "x") for i in range(40)])
    client = signed_in(tenant, AgentFactory(tenant=tenant))
    client.get(SEARCH)

    # Tenant and session lookups, the user, one select (django-tenants adds SET search_path).
    with django_assert_max_num_queries(8):
        rows = client.get(SEARCH, {"q": "reply"}).json()

    assert len(rows) == 20
