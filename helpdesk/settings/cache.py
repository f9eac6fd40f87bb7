from helpdesk.settings import env as E

# Keys are prefixed with the current schema name, so one tenant never reads another's entries.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": E.REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "KEY_PREFIX": "hd",
    }
}
