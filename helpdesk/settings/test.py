from helpdesk.settings.base import *  # noqa: F403

DEBUG = False
# Fast hashing keeps the suite quick; production hashers are exercised by bench/.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests create workspaces by cloning the session's template schema; no spare pool.
TENANT_SPARE_SCHEMAS = 0
CELERY_TASK_ALWAYS_EAGER = True
