"""Writes on the workspace's own settings: its name and picture, defaults, custom domain.

The name and the domains live in the public schema (Tenant, Domain); everything else in the
workspace's schema. Both are reached from the workspace's connection (its search path ends in
public), so one transaction covers a save.
"""

from __future__ import annotations

import re
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from tenants.agents.images import CleanImage, stored_image_delete_on_commit
from tenants.agents.models import User
from tenants.agents.permissions import workspace_manage_check
from tenants.agents.services.accounts import language_validate, timezone_validate
from tenants.connection import connection_workspace
from tenants.models import Domain, Tenant
from tenants.workspace.models import WorkspaceSettings
from tenants.workspace.selectors import workspace_settings_get

# A CharField always has a max_length; the stubs only know get_field() returns some field.
NAME_MAX_LENGTH = cast(int, Tenant._meta.get_field("name").max_length)
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def workspace_settings_initialize(*, timezone: str, language: str) -> WorkspaceSettings:
    return WorkspaceSettings.objects.create(id=1, timezone=timezone, default_language=language)


def workspace_name_validate(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Enter the company name."})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": f"Use at most {NAME_MAX_LENGTH} characters."})
    return name


def workspace_settings_update(
    *,
    actor: User,
    name: str,
    timezone: str,
    default_language: str,
    logo: CleanImage | None = None,
    logo_remove: bool = False,
) -> WorkspaceSettings:
    """`logo` must come from tenants.agents.images.image_upload_clean (re-encoded, renamed)."""
    workspace_manage_check(actor=actor)
    tenant = connection_workspace()
    name = workspace_name_validate(name)
    timezone_validate(timezone)
    language_validate(default_language)
    with transaction.atomic():
        Tenant.objects.filter(pk=tenant.pk).update(name=name)
        tenant.name = name
        row = workspace_settings_get()
        old_logo = row.logo.name if row.logo else ""
        row.timezone = timezone
        row.default_language = default_language
        fields = ["timezone", "default_language", "updated_at"]
        if logo is not None:
            row.logo.save(logo.name, logo, save=False)
            fields.append("logo")
        elif logo_remove and old_logo:
            row.logo = ""
            fields.append("logo")
        row.save(update_fields=fields)
        if "logo" in fields and old_logo:
            stored_image_delete_on_commit(storage=row.logo.storage, name=old_logo)
    return row


def custom_domain_normalize(value: str) -> str:
    """A host name people type (any case, unicode, trailing dot) as it is stored and matched."""
    host = value.strip().lower().rstrip(".")
    if not host:
        raise ValidationError("Enter a domain, e.g. help.example.com.", code="required")
    if "://" in host or "/" in host or ":" in host or "@" in host:
        raise ValidationError(
            "Enter the host name only, without http://, a path or a port, e.g. help.example.com.",
            code="invalid",
        )
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationError("This is not a valid domain name.", code="invalid") from exc
    labels = host.split(".")
    if (
        len(host) > 253
        or len(labels) < 2
        or not all(_LABEL_RE.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationError(
            "This is not a valid domain name. Use something like help.example.com.",
            code="invalid",
        )
    base = settings.BASE_DOMAIN.lower()
    if host == base or host.endswith("." + base):
        raise ValidationError(
            f"Addresses under {base} are workspace addresses; use a domain you own.",
            code="reserved",
        )
    return host


def custom_domain_list() -> list[Domain]:
    return list(
        Domain.objects.filter(tenant=connection_workspace(), is_primary=False).order_by("domain")
    )


def custom_domain_access(*, actor: User, domain_id: int | str) -> Domain:
    """One of this workspace's custom domains. Domain rows live in public and their ids are
    shared by every workspace, so the filter on the tenant is what keeps them apart."""
    try:
        pk = int(domain_id)
        return Domain.objects.get(pk=pk, tenant=connection_workspace(), is_primary=False)
    except (TypeError, ValueError, OverflowError, Domain.DoesNotExist):
        raise Http404 from None


def workspace_domain_add(*, actor: User, domain: str) -> Domain:
    """Serve the workspace on `domain` too. The merchant points it at us with a CNAME."""
    workspace_manage_check(actor=actor)
    tenant = connection_workspace()
    host = custom_domain_normalize(domain)
    current = custom_domain_list()
    if current:
        raise ValidationError(
            f"This workspace already uses {current[0].domain}. Remove it first to use another.",
            code="limit",
        )
    if Domain.objects.filter(domain=host).exists():
        raise ValidationError("This domain is already in use.", code="taken")
    try:
        with transaction.atomic():
            return Domain.objects.create(domain=host, tenant=tenant, is_primary=False)
    except IntegrityError as exc:  # claimed by another workspace a moment ago
        raise ValidationError("This domain is already in use.", code="taken") from exc


def workspace_domain_remove(*, actor: User, domain: Domain) -> None:
    workspace_manage_check(actor=actor)
    if domain.is_primary or domain.tenant_id != connection_workspace().pk:
        raise Http404
    domain.delete()
