"""Merchant signup through the public site's form, as a browser submits it."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_exists, tenant_context

from tenants.agents.models import User
from tenants.models import Domain, Tenant
from tenants.services.provisioning import schema_drop, spare_schema_names, spare_schemas_replenish
from tests.factories import OWNER_PASSWORD

_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture
def ip():
    """A client address of its own per test, so rate-limit counters never carry over."""
    return next(_addresses)


def _schemas() -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT nspname FROM pg_namespace")
        return {r[0] for r in cur.fetchall()}


def _form(**overrides):
    data = {
        "company_name": "Acme Ltd",
        "slug": "acme",
        "owner_name": "Ann Owner",
        "email": "Ann@Acme.example",
        "password": OWNER_PASSWORD,
        "timezone": "Asia/Shanghai",
        "language": "zh-hans",
        "website": "",
    }
    data.update(overrides)
    return data


def _post(client, ip, host="localhost", **overrides):
    return client.post("/signup/", _form(**overrides), HTTP_HOST=host, REMOTE_ADDR=ip)


def _assert_nothing_created(schemas_before, slug="acme"):
    assert not Tenant.objects.exclude(schema_name="public").exists()
    assert not Domain.objects.filter(domain__startswith=f"{slug}.").exists()
    assert _schemas() == schemas_before
    assert not User.objects.exists()  # public schema: no stray account either


# The page


@pytest.mark.django_db
def test_signup_page_has_every_field_and_a_csrf_token(client):
    response = client.get("/signup/", HTTP_HOST="localhost")

    assert response.status_code == 200
    body = response.content.decode()
    for name in ("company_name", "slug", "owner_name", "email", "password", "timezone", "language"):
        assert f'name="{name}"' in body
    assert "csrfmiddlewaretoken" in body
    assert ".localhost</span>" in body  # the address suffix next to the input
    assert 'hx-get="/signup/check-address/"' in body
    assert "delay:" in body  # the availability check is debounced
    assert "at least 10 characters" in body  # password rules shown up front
    assert 'value="Asia/Shanghai"' in body
    assert "data-guess-timezone" in body


@pytest.mark.django_db
def test_signup_language_defaults_from_accept_language(client):
    response = client.get("/signup/", HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")

    assert response.context["form"]["language"].value() == "de"


@pytest.mark.django_db
def test_signup_is_not_cached(client):
    response = client.get("/signup/", HTTP_HOST="localhost")

    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


# Success


@pytest.mark.django_db
def test_signup_creates_workspace_and_sends_owner_to_its_login(client, ip):
    response = _post(client, ip, host="localhost:8000")

    assert response.status_code == 303
    assert response["Location"] == "http://acme.localhost:8000/accounts/login/?created=1"
    tenant = Tenant.objects.get(slug="acme")
    assert tenant.name == "Acme Ltd"
    assert tenant.owner_email == "ann@acme.example"
    assert tenant.get_primary_domain().domain == "acme.localhost"
    assert schema_exists("acme")
    with tenant_context(tenant):
        owner = User.objects.get()
        assert owner.email == "ann@acme.example"
        assert owner.name == "Ann Owner"
        assert owner.role == User.Role.OWNER
        assert owner.timezone == "Asia/Shanghai"
        assert owner.language == "zh-hans"
        assert owner.check_password(OWNER_PASSWORD)


@pytest.mark.django_db
def test_signup_redirect_keeps_the_scheme(client, ip):
    response = client.post("/signup/", _form(), HTTP_HOST="localhost", REMOTE_ADDR=ip, secure=True)

    assert response.status_code == 303
    assert response["Location"] == "https://acme.localhost/accounts/login/?created=1"


@pytest.mark.django_db
def test_owner_can_sign_in_on_the_new_workspace(client, ip):
    _post(client, ip)

    response = client.post(
        "/accounts/login/",
        {"login": "ann@acme.example", "password": OWNER_PASSWORD},
        HTTP_HOST="acme.localhost",
    )

    assert response.status_code == 302
    assert client.get("/", HTTP_HOST="acme.localhost").status_code == 200


@pytest.mark.django_db
def test_slug_is_lowercased_and_trimmed(client, ip):
    response = _post(client, ip, slug="  Acme-Shop ")

    assert response.status_code == 303
    assert Tenant.objects.filter(slug="acme-shop").exists()


# Refusals: a clear error and nothing stored


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("www", "reserved"),
        ("api", "reserved"),
        ("admin", "reserved"),
        ("static", "reserved"),
        ("public", "reserved"),
        ("pg-catalog", "reserved"),
        ("a", "3–40 characters"),
        ("acme_shop", "3–40 characters"),
        ("-acme", "3–40 characters"),
        ("1shop", "3–40 characters"),
        ("ac--me", "doubled"),
        ("<script>", "3–40 characters"),
        ("", "required"),
    ],
)
def test_bad_workspace_address_is_a_form_error_and_creates_nothing(client, ip, slug, message):
    before = _schemas()

    response = _post(client, ip, slug=slug)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["slug"])
    assert b"<script>" not in response.content.split(b"</form>")[0].split(b"<form")[1]
    _assert_nothing_created(before)


@pytest.mark.django_db
def test_taken_address_is_a_form_error_and_first_workspace_is_untouched(client, ip, tenant):
    before = _schemas()

    response = _post(client, ip, company_name="Impostor", email="x@evil.example")

    assert response.status_code == 200
    assert "already taken" in " ".join(response.context["form"].errors["slug"])
    assert _schemas() == before
    assert list(Tenant.objects.exclude(schema_name="public")) == [tenant]
    assert Tenant.objects.get(slug="acme").name == "Acme"
    with tenant_context(tenant):
        assert not User.objects.filter(email="x@evil.example").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "too short"),
        ("1234567890123", "entirely numeric"),
        ("password123", "too common"),
        ("ann@acme.example", "too similar"),
        ("", "required"),
    ],
)
def test_weak_password_shows_the_validator_message_and_creates_nothing(
    client, ip, password, message
):
    before = _schemas()

    response = _post(client, ip, password=password)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["password"])
    _assert_nothing_created(before)
    assert f'value="{password}"'.encode() not in response.content or password == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("company_name", "   "),
        ("owner_name", ""),
        ("email", "not-an-email"),
        ("email", "ann@acme.example\r\nBcc: x@evil.example"),
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", "'; DROP SCHEMA public; --"),
        ("language", "xx"),
        ("company_name", "x" * 121),
    ],
)
def test_other_bad_fields_are_form_errors_and_create_nothing(client, ip, field, value):
    before = _schemas()

    response = _post(client, ip, **{field: value})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    _assert_nothing_created(before)


@pytest.mark.django_db
def test_markup_in_company_name_is_stored_as_text_and_rendered_inert(client, ip, admin_client):
    name = '<img src=x onerror=alert(1)><svg onload="alert(2)">'

    assert _post(client, ip, company_name=name).status_code == 303

    assert Tenant.objects.get(slug="acme").name == name
    page = client.get("/accounts/login/", HTTP_HOST="acme.localhost").content
    admin_page = admin_client.get("/operator/tenants/tenant/", HTTP_HOST="localhost").content
    for body in (page, admin_page):
        assert b"<img src=x" not in body
        assert b"<svg onload" not in body


@pytest.mark.django_db
def test_fields_meant_for_other_tenants_are_ignored(client, ip, tenant):
    response = _post(client, ip, slug="newco", schema_name="acme", tenant="acme", status="x")

    assert response.status_code == 303
    newco = Tenant.objects.get(slug="newco")
    assert newco.schema_name == "newco"
    assert newco.status == Tenant.Status.ACTIVE
    with tenant_context(tenant):
        assert User.objects.count() == 1  # acme's owner only


@pytest.mark.django_db
def test_same_owner_email_in_another_workspace_is_fine_and_reveals_nothing(client, ip, tenant):
    response = _post(client, ip, slug="second", email="owner@acme.example")

    assert response.status_code == 303
    assert Tenant.objects.filter(slug="second").exists()


@pytest.mark.django_db
def test_honeypot_filled_creates_nothing(client, ip):
    before = _schemas()

    response = _post(client, ip, website="http://spam.example")

    assert response.status_code == 200
    assert "meant to stay empty" in response.content.decode()
    _assert_nothing_created(before)
    # What was typed stays, except the password.
    assert b'value="Acme Ltd"' in response.content
    assert OWNER_PASSWORD.encode() not in response.content


@pytest.mark.django_db
def test_signup_needs_a_csrf_token(ip):
    client = Client(enforce_csrf_checks=True)
    before = _schemas()

    response = client.post("/signup/", _form(), HTTP_HOST="localhost", REMOTE_ADDR=ip)

    assert response.status_code == 403
    _assert_nothing_created(before)


@pytest.mark.django_db
def test_signup_with_the_pages_csrf_token_works(ip):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/signup/", HTTP_HOST="localhost")
    token = page.context["csrf_token"]

    response = client.post(
        "/signup/", _form(csrfmiddlewaretoken=str(token)), HTTP_HOST="localhost", REMOTE_ADDR=ip
    )

    assert response.status_code == 303


@pytest.mark.django_db
def test_signups_are_rate_limited_per_client_address(client, ip):
    from tenants.public_views import SIGNUP_RATE

    for _ in range(SIGNUP_RATE[0]):
        assert _post(client, ip, password="short").status_code == 200
    before = _schemas()

    response = _post(client, ip)

    assert response.status_code == 429
    assert "Too many signup attempts" in response.content.decode()
    _assert_nothing_created(before)
    # Another address is not affected.
    assert _post(client, next(_addresses)).status_code == 303


@pytest.mark.django_db
def test_get_and_post_only(client):
    assert client.put("/signup/", HTTP_HOST="localhost").status_code == 405


# Address availability (htmx)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("slug", "state", "text"),
    [
        ("fresh-shop", "available", "is available"),
        ("Fresh-Shop", "available", "is available"),
        ("acme", "taken", "already taken"),
        ("www", "reserved", "reserved"),
        ("pg-x", "reserved", "reserved"),
        ("a_b", "invalid", "3–40 characters"),
        ("<script>alert(1)</script>", "invalid", "3–40 characters"),
        ("", "empty", ""),
    ],
)
def test_address_check_says_whether_it_can_be_had(client, ip, tenant, slug, state, text):
    response = client.get(
        "/signup/check-address/", {"slug": slug}, HTTP_HOST="localhost", REMOTE_ADDR=ip
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-state="{state}"' in body
    assert text in body
    assert "<script>" not in body


@pytest.mark.django_db
def test_address_check_is_throttled_per_client_address(client, ip):
    from tenants.public_views import SLUG_CHECK_RATE

    for _ in range(SLUG_CHECK_RATE[0]):
        client.get("/signup/check-address/", {"slug": "abc"}, HTTP_HOST="localhost", REMOTE_ADDR=ip)

    response = client.get(
        "/signup/check-address/", {"slug": "abc"}, HTTP_HOST="localhost", REMOTE_ADDR=ip
    )

    assert 'data-state="throttled"' in response.content.decode()


# A failure halfway leaves nothing behind. These run in real transactions (transactional_db), so
# what is checked afterwards is what PostgreSQL really committed, not a rolled-back savepoint.


@pytest.fixture
def drop_spares_after():
    yield
    connection.set_schema_to_public()
    for name in spare_schema_names(current_only=False):
        schema_drop(schema_name=name)


@pytest.mark.django_db(transaction=True)
def test_failure_after_claiming_a_spare_leaves_no_schema_no_rows_and_the_spare_intact(
    client, ip, drop_spares_after
):
    spare_schemas_replenish(target=1)
    [spare] = spare_schema_names()
    # A real database failure at the last step: the owner's row cannot be inserted. The trigger
    # lives on the spare's own table, so it travels with the schema when signup renames it.
    with connection.cursor() as cur:
        cur.execute(
            "CREATE FUNCTION public.test_refuse_owner() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'owner insert refused by test'; END $$"
        )
        cur.execute(
            f'CREATE TRIGGER refuse BEFORE INSERT ON "{spare}".agents_user '
            "FOR EACH ROW EXECUTE FUNCTION public.test_refuse_owner()"
        )
    before = _schemas()
    try:
        response = _post(client, ip, slug="doomed")
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cur:
            cur.execute("DROP FUNCTION public.test_refuse_owner() CASCADE")

    assert response.status_code == 503
    assert "Nothing was saved" in response.content.decode()
    assert not Tenant.objects.filter(slug="doomed").exists()
    assert not Domain.objects.filter(domain="doomed.localhost").exists()
    assert not schema_exists("doomed")
    assert _schemas() == before
    assert spare_schema_names() == [spare]  # back in the pool, under its own name


@pytest.mark.django_db(transaction=True)
def test_failure_after_cloning_leaves_no_schema_and_no_rows(client, ip):
    # No spares: the clone path. The Domain insert, after the clone and the Tenant row, fails.
    with connection.cursor() as cur:
        cur.execute(
            "CREATE FUNCTION public.test_refuse_domain() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'domain insert refused by test'; END $$"
        )
        cur.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON public.tenants_domain FOR EACH ROW "
            "WHEN (NEW.domain = 'doomed.localhost') EXECUTE FUNCTION public.test_refuse_domain()"
        )
    before = _schemas()
    try:
        response = _post(client, ip, slug="doomed")
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cur:
            cur.execute("DROP FUNCTION public.test_refuse_domain() CASCADE")

    assert response.status_code == 503
    assert not Tenant.objects.filter(slug="doomed").exists()
    assert not schema_exists("doomed")
    assert _schemas() == before
    # The address is free again: the same signup now succeeds.
    assert _post(client, next(_addresses), slug="doomed").status_code == 303
    Tenant.objects.filter(slug="doomed").delete()
    schema_drop(schema_name="doomed")
