"""The agent inbox pages; /inbox/c/<id>/ is a deep link to one conversation (same page)."""

from django.urls import path

from chat.views import inbox

urlpatterns = [
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/c/<int:conversation_id>/", inbox.inbox, name="inbox_conversation"),
]
