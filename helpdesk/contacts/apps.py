from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "helpdesk.contacts"
    label = "contacts"
    verbose_name = "Contacts"
