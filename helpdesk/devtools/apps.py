from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    name = "helpdesk.devtools"
    label = "devtools"
