from django.contrib import admin
from django.urls import include, path

from tenants import public_views

urlpatterns = [
    path("", public_views.home, name="public_home"),
    path("signup/", public_views.signup, name="signup"),
    path("signup/check-address/", public_views.signup_slug_check, name="signup_slug_check"),
    path("find-workspace/", public_views.find_workspace, name="find_workspace"),
    path("operator/", admin.site.urls),
    path("dev/", include("helpdesk.devtools.urls")),
    path("api/", include("helpdesk.api.urls_public")),
    path("webhooks/email/", include("chat.urls_email_webhooks")),
]

# Error pages render the workspace's templates; these handlers make sure they do so in the
# request's schema even when Django builds the response in another thread (ASGI).
handler404 = "tenants.views.page_not_found"
handler403 = "tenants.views.permission_denied"
