import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from tenants.models import Tenant
from tenants.services.signup import tenant_signup

DEMO_EMAIL = "owner@demo.example"


class Command(BaseCommand):
    help = "Create the demo workspace (slug 'demo') if missing and write its login to .data/."

    def handle(self, *args, **options):
        login_file = settings.BASE_DIR / ".data" / "demo-login.txt"
        if Tenant.objects.filter(slug="demo").exists():
            if login_file.exists():
                self.stdout.write("Demo workspace exists.")
            return
        password = "demo-" + secrets.token_urlsafe(9)
        tenant_signup(
            company_name="Demo Store",
            slug="demo",
            owner_name="Demo Owner",
            owner_email=DEMO_EMAIL,
            owner_password=password,
            timezone="Asia/Shanghai",
            language="en",
        )
        login_file.parent.mkdir(parents=True, exist_ok=True)
        login_file.write_text(
            f"Demo login:              {DEMO_EMAIL} / {password}  (as created; changes are yours)\n"
        )
        self.stdout.write(self.style.SUCCESS("Demo workspace created."))
