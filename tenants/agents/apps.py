from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "tenants.agents"
    label = "agents"
    verbose_name = "Agents"
