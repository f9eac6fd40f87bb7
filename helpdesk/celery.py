import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.dev")

# CeleryApp sends the current schema in every task's headers and switches to it in the worker
# (and back to the previous schema after the task), see tests/helpdesk/test_celery_tenancy.py.
app = CeleryApp("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every installed app's tasks.py, plus the per-workspace fan-out used by beat.
app.autodiscover_tasks()
app.autodiscover_tasks(["helpdesk"], related_name="jobs")
