from django.contrib import admin
from django.urls import include, path

from tenants import public_views

urlpatterns = [
    path("", public_views.home, name="public_home"),
    path("signup/", public_views.signup, name="signup"),
    path("operator/", admin.site.urls),
    path("dev/", include("helpdesk.devtools.urls")),
]
