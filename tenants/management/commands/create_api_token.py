"""Issue a personal API token for an agent, for scripts and CI. Prints only the token."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from tenants.agents.models import User
from tenants.agents.tokens import api_token_create
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Create an API token for an agent of a workspace and print it on stdout (nothing else "
        "goes to stdout, so `TOKEN=$(manage.py create_api_token ...)` works). It is shown once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Workspace slug, e.g. 'acme'.")
        parser.add_argument("--email", required=True, help="The agent's email address.")
        parser.add_argument(
            "--name", default="Command line", help="Token name (default: %(default)s)."
        )

    def handle(self, *args, **options):
        slug = options["tenant"].strip()
        tenant = Tenant.objects.exclude(schema_name="public").filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"No workspace with the address {slug!r}.")
        if tenant.is_suspended:
            raise CommandError(f"Workspace {slug!r} is suspended; reactivate it first.")
        email = options["email"].strip().lower()
        with tenant_context(tenant):
            agent = User.objects.filter(email__iexact=email).first()
            if agent is None:
                raise CommandError(f"No agent with the email {email!r} in workspace {slug!r}.")
            if not agent.is_active:
                raise CommandError(f"Agent {email!r} is deactivated; no token issued.")
            try:
                issued = api_token_create(user=agent, name=options["name"])
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        self.stderr.write(
            f"Token “{issued.token.name}” for {agent.email} in {slug}. Store it now: it is not "
            "shown again."
        )
        self.stdout.write(issued.secret)
