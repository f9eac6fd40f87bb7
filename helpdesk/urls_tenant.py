from django.urls import include, path

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("api/", include("helpdesk.api.urls")),
    path("", include("tenants.agents.urls_tokens")),
    path("", include("tenants.agents.urls")),
    path("", include("tenants.workspace.urls")),
    path("", include("chat.urls")),
]

# Error pages render the workspace's templates; these handlers make sure they do so in the
# request's schema even when Django builds the response in another thread (ASGI).
handler404 = "tenants.views.page_not_found"
handler403 = "tenants.views.permission_denied"
