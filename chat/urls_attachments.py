from django.urls import path

from chat.views import attachments

urlpatterns = [
    path(
        "widget/api/attachments/",
        attachments.visitor_attachment_upload,
        name="chat_visitor_attachment_upload",
    ),
    path(
        "inbox/attachments/",
        attachments.agent_attachment_upload,
        name="chat_agent_attachment_upload",
    ),
    path(
        "attachments/<uuid:attachment_id>/",
        attachments.attachment_download,
        name="chat_attachment_download",
    ),
]
