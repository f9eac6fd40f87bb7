"""The agent inbox pages, and the email content its tickets show in frames.

/inbox/tickets/<id>/ is a deep link to one ticket (same page); /inbox/c/<id>/, the older link to
one conversation, redirects to its ticket.
"""

from django.urls import path

from chat.views import email_content, inbox

urlpatterns = [
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/tickets/<int:ticket_id>/", inbox.inbox, name="inbox_ticket"),
    path("inbox/c/<int:conversation_id>/", inbox.inbox_conversation, name="inbox_conversation"),
    path(
        "inbox/email/<int:message_id>/html/",
        email_content.chat_email_html,
        name="chat_email_html",
    ),
    path(
        "inbox/email/<int:message_id>/raw/",
        email_content.chat_email_raw,
        name="chat_email_raw",
    ),
]
