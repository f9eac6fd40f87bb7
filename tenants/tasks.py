from celery import shared_task

from tenants.services.provisioning import spare_schemas_replenish


@shared_task(acks_late=True)
def spare_schemas_replenish_task() -> int:
    return spare_schemas_replenish()
