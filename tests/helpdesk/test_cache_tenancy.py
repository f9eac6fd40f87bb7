"""The Redis cache: one key name, one value per workspace, and the schema visible in Redis."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django_tenants.utils import schema_context, tenant_context

pytestmark = pytest.mark.django_db


def test_same_key_holds_a_value_per_workspace(tenant, other_tenant):
    with tenant_context(tenant):
        cache.set("greeting", "hello from acme", 60)
    with tenant_context(other_tenant):
        assert cache.get("greeting") is None
        cache.set("greeting", "hello from globex", 60)
    with schema_context("public"):
        assert cache.get("greeting") is None

    with tenant_context(tenant):
        assert cache.get("greeting") == "hello from acme"
    with tenant_context(other_tenant):
        assert cache.get("greeting") == "hello from globex"
        cache.delete("greeting")
    with tenant_context(tenant):
        assert cache.get("greeting") == "hello from acme"


def test_raw_redis_keys_carry_the_schema_name(tenant, other_tenant):
    with tenant_context(tenant):
        cache.set("counter", 1, 60)
    with tenant_context(other_tenant):
        cache.set("counter", 2, 60)

    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    raw = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    try:
        keys = sorted(k.decode() for k in raw.keys(f"*:{prefix}:*:counter"))
    finally:
        raw.close()

    assert keys == [f"acme:{prefix}:1:counter", f"globex:{prefix}:1:counter"]
