from helpdesk.settings.base import *  # noqa: F403

DEBUG = False
# Fast hashing keeps the suite quick; production hashers are exercised by bench/.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests create workspaces by cloning the session's template schema; no spare pool.
TENANT_SPARE_SCHEMAS = 0
CELERY_TASK_ALWAYS_EAGER = True
# Each test run gets its own cache namespace, so a shared Redis never leaks rate-limit counters
# between runs (or into a developer's running instance) and nothing needs flushing.
import uuid as _uuid  # noqa: E402

CACHES["default"]["KEY_PREFIX"] = f"test-{_uuid.uuid4().hex[:8]}"  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
