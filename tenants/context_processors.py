from django.conf import settings


def workspace(request):
    tenant = getattr(request, "tenant", None)
    return {
        "current_tenant": tenant,
        "is_public_site": tenant is None or tenant.is_public,
        "base_domain": settings.BASE_DOMAIN,
    }
