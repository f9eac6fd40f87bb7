import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.dev")

# CeleryApp sends the current schema in every task's headers and switches to it in the worker.
app = CeleryApp("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
