from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "helpdesk.health"
    label = "health"
