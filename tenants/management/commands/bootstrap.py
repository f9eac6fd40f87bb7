from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants.services.platform import public_tenant_ensure
from tenants.services.provisioning import spare_schemas_replenish, template_schema_ensure


class Command(BaseCommand):
    help = (
        "Migrate the public schema, the workspace template and every workspace, make sure the "
        "public site answers on BASE_DOMAIN, and top up the spare schema pool. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-spares", action="store_true", help="Skip the spare pool.")

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        public_tenant_ensure()
        if template_schema_ensure(verbosity=verbosity):
            self.stdout.write("Workspace template schema migrated.")
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity)
        if not options["no_spares"]:
            created = spare_schemas_replenish()
            if created:
                self.stdout.write(f"Prepared {created} spare workspace schema(s).")
        self.stdout.write(self.style.SUCCESS("Bootstrap complete."))
