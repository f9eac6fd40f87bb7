"""Chat URLs on workspace hosts. Each part has its own module, owned by one view module."""

from django.urls import include, path

urlpatterns = [
    path("", include("chat.urls_widget")),
    path("", include("chat.urls_attachments")),
    path("", include("chat.urls_inbox")),
    path("", include("chat.urls_settings")),
]
