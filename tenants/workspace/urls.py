from django.urls import path

from tenants.workspace import media, views

urlpatterns = [
    path("settings/", views.workspace_settings, name="workspace_settings"),
    path("settings/domain/", views.workspace_domain_add, name="workspace_domain_add"),
    path(
        "settings/domain/<int:domain_id>/remove/",
        views.workspace_domain_remove,
        name="workspace_domain_remove",
    ),
    path("media/<path:path>", media.tenant_media, name="tenant_media"),
]
