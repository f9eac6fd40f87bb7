from helpdesk.settings import env as E

CELERY_BROKER_URL = E.REDIS_URL
CELERY_RESULT_BACKEND = E.REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = E.CELERY_ALWAYS_EAGER
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "spare-schemas-replenish": {
        "task": "tenants.tasks.spare_schemas_replenish_task",
        "schedule": 300.0,
    },
    "chat-snoozed-wake": {
        "task": "helpdesk.jobs.tenants_fan_out_task",
        "schedule": 60.0,
        "args": ("chat.tasks.conversations_snoozed_wake_task",),
    },
    # Workspaces' IMAP mailboxes; a mailbox still being polled from the last run is skipped.
    "imap-mailboxes-poll": {
        "task": "helpdesk.jobs.tenants_fan_out_task",
        "schedule": 60.0,
        "args": ("chat.tasks.imap_mailboxes_poll_task",),
    },
}
