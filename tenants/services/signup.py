"""A merchant's signup: one transaction creates the schema, the records and the owner account."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_exists, tenant_context

from tenants.models import Domain, Tenant
from tenants.services.provisioning import workspace_schema_provision
from tenants.slugs import schema_name_for_slug, slug_validate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignupResult:
    tenant: Tenant
    domain: str
    provisioned_by: str  # "spare" or "clone"


def workspace_host(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def slug_check_available(*, slug: str) -> None:
    slug_validate(slug)
    schema = schema_name_for_slug(slug)
    if (
        Tenant.objects.filter(slug=slug).exists()
        or Tenant.objects.filter(schema_name=schema).exists()
        or Domain.objects.filter(domain=workspace_host(slug)).exists()
        or schema_exists(schema)
    ):
        raise ValidationError("This address is already taken.", code="taken")


def tenant_signup(
    *,
    company_name: str,
    slug: str,
    owner_name: str,
    owner_email: str,
    owner_password: str,
    timezone: str = "UTC",
    language: str = "en",
) -> SignupResult:
    """Create a workspace and its owner. Raises ValidationError and leaves nothing behind."""
    from tenants.agents.models import User
    from tenants.agents.services import agent_create_owner
    from tenants.agents.services.accounts import language_validate, timezone_validate
    from tenants.workspace.services import workspace_settings_initialize

    slug = slug.strip()
    slug_check_available(slug=slug)
    owner_email = owner_email.strip().lower()
    validate_email(owner_email)
    timezone_validate(timezone)
    language_validate(language)
    company_name = company_name.strip()
    if not company_name:
        raise ValidationError("Enter your company name.", code="required")
    host = workspace_host(slug)
    # Checked and hashed before the transaction: a weak password never touches a schema, and the
    # slow hash is not spent holding a claimed spare or (clone path) the catalogue locks that
    # make concurrent clones wait. An unsaved user carries what the similarity check compares.
    validate_password(owner_password, user=User(email=owner_email, name=owner_name))
    password_hash = make_password(owner_password)

    try:
        with transaction.atomic():
            provisioned_by = workspace_schema_provision(schema_name=schema_name_for_slug(slug))
            tenant = Tenant.objects.create(
                schema_name=schema_name_for_slug(slug),
                slug=slug,
                name=company_name,
                owner_email=owner_email,
            )
            Domain.objects.create(domain=host, tenant=tenant, is_primary=True)
            with tenant_context(tenant):
                workspace_settings_initialize(timezone=timezone, language=language)
                owner = agent_create_owner(
                    email=owner_email,
                    name=owner_name,
                    password=None,
                    timezone=timezone,
                    language=language,
                )
                owner.password = password_hash
                owner.save(update_fields=["password"])
    except IntegrityError:
        # A concurrent signup committed the same address first: give the form's answer.
        slug_check_available(slug=slug)
        raise

    if settings.TENANT_SPARE_SCHEMAS > 0:
        from tenants.tasks import spare_schemas_replenish_task

        transaction.on_commit(spare_schemas_replenish_task.delay)
    log.info("Workspace %s created (%s)", slug, provisioned_by)
    return SignupResult(tenant=tenant, domain=host, provisioned_by=provisioned_by)
