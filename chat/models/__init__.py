from chat.models.attachments import Attachment
from chat.models.canned import CannedResponse
from chat.models.conversations import Conversation, Message
from chat.models.widget import WidgetSettings

__all__ = ["Attachment", "CannedResponse", "Conversation", "Message", "WidgetSettings"]
