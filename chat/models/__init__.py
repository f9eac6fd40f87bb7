from chat.models.attachments import Attachment
from chat.models.canned import CannedResponse
from chat.models.conversations import Conversation, Message
from chat.models.email import EmailMessage, EmailSettings, ImapMailbox
from chat.models.widget import WidgetSettings

__all__ = [
    "Attachment",
    "CannedResponse",
    "Conversation",
    "EmailMessage",
    "EmailSettings",
    "ImapMailbox",
    "Message",
    "WidgetSettings",
]
