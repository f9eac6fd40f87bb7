"""Create a workspace and its owner from the command line, through the same service as signup.

Replaces django-tenants' own create_tenant: `tenants` is listed before `django_tenants` in
INSTALLED_APPS, and Django lets the earlier app's command win.
"""

from __future__ import annotations

import getpass
import sys

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from tenants.services.signup import tenant_signup


def _workspace_url(host: str) -> str:
    scheme = settings.PUBLIC_SCHEME
    port = settings.PUBLIC_PORT
    default_port = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}{'' if port == default_port else f':{port}'}/"


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(errs)}" for field, errs in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = (
        "Create a workspace with its owner account, exactly as the signup page does, and print "
        "the workspace's address. Nothing is created when any value is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="Workspace address, e.g. 'acme'.")
        parser.add_argument("--name", required=True, help="Company name, e.g. 'Acme'.")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument(
            "--owner-password",
            help="Owner's password. Omit it to be asked for it (keeps it out of shell history).",
        )
        parser.add_argument("--owner-name", help="Owner's full name (default: from the email).")
        parser.add_argument("--timezone", default="UTC", help="IANA name (default: UTC).")
        parser.add_argument(
            "--language",
            default="en",
            choices=[code for code, _ in settings.LANGUAGES],
            help="Default language (default: en).",
        )

    def handle(self, *args, **options):
        email = options["owner_email"].strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"Not a valid email address: {options['owner_email']!r}") from None
        tz = options["timezone"]
        owner_name = (options["owner_name"] or email.split("@", 1)[0]).strip()
        if not owner_name:
            raise CommandError("The owner's name cannot be empty.")
        password = options["owner_password"]
        if password is None:
            if not sys.stdin.isatty():
                raise CommandError("Give --owner-password (no terminal to ask for it on).")
            password = getpass.getpass("Owner's password: ")

        try:
            result = tenant_signup(
                company_name=options["name"],
                slug=options["slug"],
                owner_name=owner_name,
                owner_email=email,
                owner_password=password,
                timezone=tz,
                language=options["language"],
            )
        except ValidationError as exc:
            raise CommandError(f"Workspace not created. {_messages(exc)}") from None

        url = _workspace_url(result.domain)
        self.stdout.write(self.style.SUCCESS(f"Workspace “{result.tenant.name}” created: {url}"))
        self.stdout.write(f"Owner {email} can sign in at {url}accounts/login/")
