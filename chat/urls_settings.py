"""Settings → Chat widget and Canned responses, and the inbox composer's canned-response lookup."""

from django.urls import path

from chat.views import settings as views
from chat.views import settings_email

urlpatterns = [
    path("settings/chat-widget/", views.chat_widget_settings, name="chat_widget_settings"),
    path(
        "settings/chat-widget/secret/rotate/",
        views.chat_widget_secret_rotate,
        name="chat_widget_secret_rotate",
    ),
    path(
        "settings/canned-responses/",
        views.canned_response_list_view,
        name="canned_response_list",
    ),
    path(
        "settings/canned-responses/new/",
        views.canned_response_create_view,
        name="canned_response_create",
    ),
    path(
        "settings/canned-responses/<int:canned_response_id>/edit/",
        views.canned_response_edit_view,
        name="canned_response_edit",
    ),
    path(
        "settings/canned-responses/<int:canned_response_id>/delete/",
        views.canned_response_delete_view,
        name="canned_response_delete",
    ),
    path("settings/email/", settings_email.email_settings, name="email_settings"),
    path("settings/email/imap/", settings_email.email_settings_imap, name="email_settings_imap"),
    path(
        "settings/email/imap/test/",
        settings_email.email_settings_imap_test,
        name="email_settings_imap_test",
    ),
    path(
        "settings/email/imap/remove/",
        settings_email.email_settings_imap_remove,
        name="email_settings_imap_remove",
    ),
    path(
        "inbox/canned-responses.json",
        views.canned_response_search_view,
        name="canned_response_search",
    ),
]
