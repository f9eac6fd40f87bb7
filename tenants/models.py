"""Public-schema records: which workspaces exist and which hosts reach them."""

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    owner_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    suspended_at = models.DateTimeField(null=True, blank=True)

    # Schemas are provisioned by tenants.services.provisioning (spare pool or template clone),
    # never by django-tenants running every migration on save().
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "workspace"

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_public(self) -> bool:
        return self.schema_name == "public"

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED


class Domain(DomainMixin):
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.domain
