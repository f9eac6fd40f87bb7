from django.urls import include, path

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("api/", include("helpdesk.api.urls")),
    path("", include("tenants.agents.urls_tokens")),
    path("", include("tenants.agents.urls")),
    path("", include("tenants.workspace.urls")),
]
