import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from tenants.agents.models import User
from tenants.models import Domain, Tenant
from tenants.services.signup import tenant_signup
from tests.factories import OWNER_PASSWORD

pytestmark = pytest.mark.django_db


def _schemas():
    with connection.cursor() as cur:
        cur.execute("SELECT nspname FROM pg_namespace ORDER BY 1")
        return [r[0] for r in cur.fetchall()]


def _signup(**overrides):
    data = dict(
        company_name="Acme Ltd",
        slug="acme",
        owner_name="Ann Owner",
        owner_email="Ann@Acme.example",
        owner_password=OWNER_PASSWORD,
        timezone="Asia/Shanghai",
        language="zh-hans",
    )
    data.update(overrides)
    return tenant_signup(**data)


def test_signup_creates_schema_tenant_domain_and_owner():
    result = _signup()

    assert result.domain == "acme.localhost"
    assert schema_exists("acme")
    assert Domain.objects.get(domain="acme.localhost").tenant == result.tenant
    with tenant_context(result.tenant):
        owner = User.objects.get()
        assert owner.email == "ann@acme.example"
        assert owner.role == User.Role.OWNER
        assert owner.check_password(OWNER_PASSWORD)
        assert owner.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    "slug",
    [
        "www",
        "api",
        "admin",
        "static",
        "public",
        "pg-data",
        "Acme",
        "a",
        "-acme",
        "acme-",
        "acme_shop",
        "ac--me",
        "1acme",
    ],
)
def test_reserved_or_invalid_slug_creates_nothing(slug):
    schemas_before = _schemas()

    with pytest.raises(ValidationError):
        _signup(slug=slug)

    assert not Tenant.objects.exclude(schema_name="public").exists()
    assert _schemas() == schemas_before


def test_taken_slug_is_refused_and_first_workspace_untouched():
    first = _signup()

    with pytest.raises(ValidationError, match="already taken"):
        _signup(company_name="Other", owner_email="other@x.example")

    assert Tenant.objects.exclude(schema_name="public").get() == first.tenant
    assert Tenant.objects.get(slug="acme").name == "Acme Ltd"


def test_weak_password_leaves_no_schema_or_rows():
    with pytest.raises(ValidationError):
        _signup(owner_password="12345678")

    assert not Tenant.objects.filter(slug="acme").exists()
    assert not Domain.objects.filter(domain="acme.localhost").exists()
    assert not schema_exists("acme")


@pytest.mark.parametrize(
    "overrides",
    [
        {"owner_email": "not-an-email"},
        {"owner_email": "ann@acme.example\r\nBcc: x@evil.example"},
        {"timezone": "Mars/Olympus"},
        {"language": "klingon"},
    ],
)
def test_bad_owner_details_are_refused_and_create_nothing(overrides):
    schemas_before = _schemas()

    with pytest.raises(ValidationError):
        _signup(**overrides)

    assert not Tenant.objects.filter(slug="acme").exists()
    assert not Domain.objects.filter(domain="acme.localhost").exists()
    assert _schemas() == schemas_before
