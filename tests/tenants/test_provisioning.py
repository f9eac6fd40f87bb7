"""Where a new workspace's schema comes from: a spare from the pool, or a clone of the template."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django_tenants.utils import schema_exists, tenant_context

from tenants.agents.models import User
from tenants.models import Tenant
from tenants.services.provisioning import (
    SPARE_PREFIX,
    migrations_fingerprint,
    schema_clone_from_template,
    schema_drop,
    spare_schema_claim,
    spare_schema_names,
    spare_schemas_replenish,
    template_schema_name,
    workspace_schema_provision,
)
from tests.factories import TenantFactory


def _oid(schema: str) -> int | None:
    with connection.cursor() as cur:
        cur.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema])
        row = cur.fetchone()
    return row[0] if row else None


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {r[0] for r in cur.fetchall()}


def _stale_spare_make(name: str) -> None:
    """A spare as an older release would have left it: same tables, another fingerprint."""
    with transaction.atomic():
        schema_clone_from_template(schema_name=name)
        with connection.cursor() as cur:
            cur.execute(f'COMMENT ON SCHEMA "{name}" IS %s', ["0000old0release0"])


# Spare pool (tests under `db`: everything below rolls back with the test)


@pytest.mark.django_db
def test_replenish_creates_current_spares_up_to_the_target():
    assert spare_schema_names() == []

    created = spare_schemas_replenish(target=2)

    spares = spare_schema_names()
    assert created == 2
    assert len(spares) == 2
    assert all(s.startswith(SPARE_PREFIX) for s in spares)
    assert all(_tables(s) == _tables(template_schema_name()) for s in spares)
    assert spare_schemas_replenish(target=2) == 0  # already full


@pytest.mark.django_db
def test_signup_takes_a_spare_when_one_exists():
    spare_schemas_replenish(target=2)
    spares = spare_schema_names()
    spare_oids = {_oid(s) for s in spares}

    tenant = TenantFactory(slug="acme")

    assert tenant.schema_name == "acme"
    assert _oid("acme") in spare_oids  # renamed, not copied
    assert len(spare_schema_names()) == 1
    with tenant_context(tenant):
        assert User.objects.get().role == User.Role.OWNER


@pytest.mark.django_db
def test_signup_reports_how_the_schema_was_made():
    from tenants.services.signup import tenant_signup

    spare_schemas_replenish(target=1)
    kwargs = dict(owner_name="O", owner_password="owner-pass-Quokka-42")

    first = tenant_signup(company_name="A", slug="first", owner_email="a@x.example", **kwargs)
    second = tenant_signup(company_name="B", slug="second", owner_email="b@x.example", **kwargs)

    assert first.provisioned_by == "spare"
    assert second.provisioned_by == "clone"


@pytest.mark.django_db
def test_clone_path_when_no_spares_exist():
    assert spare_schema_names() == []

    assert workspace_schema_provision(schema_name="fresh") == "clone"

    assert schema_exists("fresh")
    assert _tables("fresh") == _tables(template_schema_name())
    with connection.cursor() as cur:
        cur.execute('SELECT count(*) FROM "fresh".django_migrations')
        assert cur.fetchone()[0] > 0  # migration records came along: the schema is current


def _clone_function() -> tuple[int, str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT p.oid, obj_description(p.oid, 'pg_proc') FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname = 'clone_schema'"
        )
        return cur.fetchone()


@pytest.mark.django_db
def test_clone_function_is_installed_once_not_on_every_clone():
    # Re-creating it per clone grows the PostgreSQL backend's memory and slows every next clone.
    workspace_schema_provision(schema_name="first_clone")
    installed = _clone_function()

    workspace_schema_provision(schema_name="second_clone")

    assert _clone_function() == installed


@pytest.mark.django_db
def test_clone_function_of_another_version_is_replaced():
    workspace_schema_provision(schema_name="first_clone")
    oid, version = _clone_function()
    with connection.cursor() as cur:
        cur.execute(
            "COMMENT ON FUNCTION public.clone_schema(text, text, public.cloneparms[]) IS 'older'"
        )

    workspace_schema_provision(schema_name="second_clone")

    assert _clone_function()[0] != oid
    assert _clone_function()[1] == version
    assert _tables("second_clone") == _tables(template_schema_name())


@pytest.mark.django_db
def test_stale_spare_is_never_handed_out_and_replenish_drops_it():
    _stale_spare_make("_spare_stale000001")

    assert spare_schema_names() == []
    assert spare_schema_names(current_only=False) == ["_spare_stale000001"]
    assert workspace_schema_provision(schema_name="acme") == "clone"
    assert _oid("acme") != _oid("_spare_stale000001")

    spare_schemas_replenish(target=1)

    assert not schema_exists("_spare_stale000001")
    assert len(spare_schema_names()) == 1


@pytest.mark.django_db
def test_replenish_with_target_zero_still_drops_stale_spares():
    _stale_spare_make("_spare_stale000002")

    assert spare_schemas_replenish(target=0) == 0

    assert not schema_exists("_spare_stale000002")


@pytest.mark.django_db
def test_claimed_spare_carries_no_fingerprint_so_it_is_never_taken_as_a_spare_again():
    spare_schemas_replenish(target=1)

    with transaction.atomic():
        assert spare_schema_claim(schema_name="acme")

    with connection.cursor() as cur:
        cur.execute("SELECT obj_description(%s::oid, 'pg_namespace')", [_oid("acme")])
        assert cur.fetchone()[0] is None
    assert spare_schema_names() == []
    assert migrations_fingerprint()  # the comment a spare would need


# Collisions


@pytest.mark.django_db
def test_schema_name_of_an_existing_workspace_is_refused():
    TenantFactory(slug="acme")
    spare_schemas_replenish(target=1)
    spares = spare_schema_names()

    with pytest.raises(ValidationError, match="already taken"):
        workspace_schema_provision(schema_name="acme")
    with pytest.raises(ValidationError):
        schema_clone_from_template(schema_name="acme")

    assert spare_schema_names() == spares  # the spare was not consumed


@pytest.mark.django_db
def test_schema_name_differing_only_in_case_is_refused():
    with connection.cursor() as cur:
        cur.execute('CREATE SCHEMA "Shop"')

    with pytest.raises(ValidationError):
        workspace_schema_provision(schema_name="shop")

    assert not schema_exists("shop")


@pytest.mark.django_db
def test_signup_onto_a_leftover_schema_without_a_workspace_is_refused():
    from tenants.services.signup import tenant_signup

    with connection.cursor() as cur:
        cur.execute('CREATE SCHEMA "leftover"')
        cur.execute('CREATE TABLE "leftover".keep_me (id int)')

    with pytest.raises(ValidationError, match="already taken"):
        tenant_signup(
            company_name="L",
            slug="leftover",
            owner_name="O",
            owner_email="o@x.example",
            owner_password="owner-pass-Quokka-42",
        )

    assert not Tenant.objects.filter(slug="leftover").exists()
    assert _tables("leftover") == {"keep_me"}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["public", "information_schema", "pg_catalog", "pg_toast"])
def test_system_schemas_are_never_dropped(name):
    with pytest.raises(ValueError):
        schema_drop(schema_name=name)
    assert schema_exists(name)


# Concurrency: real transactions on separate connections (threads + transactional_db)


@pytest.fixture
def cleanup_schemas():
    """Drop whatever the threads committed: spares, workspaces and their rows."""
    names: list[str] = []
    yield names
    connection.set_schema_to_public()
    Tenant.objects.filter(schema_name__in=names).delete()
    for name in names + spare_schema_names(current_only=False):
        schema_drop(schema_name=name)


def _in_thread(target, results, key):
    def run():
        try:
            results[key] = target()
        except Exception as exc:  # reported by the test, not lost in the thread
            results[key] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_two_claims_in_flight_never_get_the_same_spare(cleanup_schemas):
    cleanup_schemas.extend(["first_ws", "second_ws"])
    spare_schemas_replenish(target=2)
    spare_oids = {_oid(s) for s in spare_schema_names()}
    first_claimed, second_done = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def first():
        with transaction.atomic():
            claimed = spare_schema_claim(schema_name="first_ws")
            first_claimed.set()
            # Stay uncommitted while the second claim runs: the worst moment for it.
            assert second_done.wait(20)
        return claimed

    def second():
        assert first_claimed.wait(20)
        with transaction.atomic():
            claimed = spare_schema_claim(schema_name="second_ws")
        second_done.set()
        return claimed

    threads = [_in_thread(first, results, "first"), _in_thread(second, results, "second")]
    for t in threads:
        t.join(30)

    assert results == {"first": True, "second": True}
    assert _oid("first_ws") != _oid("second_ws")
    assert {_oid("first_ws"), _oid("second_ws")} == spare_oids
    assert spare_schema_names() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_signups_each_get_their_own_schema(cleanup_schemas):
    """Four signups at once with two spares: two take spares, two clone; none collide."""
    from tenants.services.signup import tenant_signup

    slugs = ["shop-a", "shop-b", "shop-c", "shop-d"]
    cleanup_schemas.extend(s.replace("-", "_") for s in slugs)
    spare_schemas_replenish(target=2)
    spare_oids = {_oid(s) for s in spare_schema_names()}
    start = threading.Barrier(len(slugs))
    results: dict[str, object] = {}

    def signup(slug):
        def run():
            start.wait(20)
            return tenant_signup(
                company_name=slug,
                slug=slug,
                owner_name="Owner",
                owner_email=f"owner@{slug}.example",
                owner_password="owner-pass-Quokka-42",
            ).provisioned_by

        return run

    threads = [_in_thread(signup(s), results, s) for s in slugs]
    for t in threads:
        t.join(60)

    assert sorted(results.values()) == ["clone", "clone", "spare", "spare"], results
    oids = {_oid(s.replace("-", "_")) for s in slugs}
    assert len(oids) == 4
    assert spare_oids <= oids
    assert Tenant.objects.filter(slug__in=slugs).count() == 4
    for slug in slugs:
        with tenant_context(Tenant.objects.get(slug=slug)):
            assert User.objects.get().email == f"owner@{slug}.example"


@pytest.mark.django_db(transaction=True)
def test_clone_and_replenish_at_the_same_time_both_succeed(cleanup_schemas):
    """A clone-path signup while the worker tops up the pool: both finish, neither breaks."""
    cleanup_schemas.append("racing_ws")
    results: dict[str, object] = {}
    go = threading.Barrier(2)

    def clone():
        go.wait(20)
        with transaction.atomic():
            return workspace_schema_provision(schema_name="racing_ws")

    def replenish():
        go.wait(20)
        return spare_schemas_replenish(target=2)

    threads = [_in_thread(clone, results, "clone"), _in_thread(replenish, results, "replenish")]
    for t in threads:
        t.join(60)

    assert results["clone"] in ("clone", "spare"), results
    assert results["replenish"] in (1, 2), results
    assert schema_exists("racing_ws")
