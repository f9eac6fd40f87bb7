"""The embeddable widget: the loader script for store pages and the chat frame it opens."""

from django.urls import path

from chat.views import widget

urlpatterns = [
    path("widget.js", widget.widget_loader, name="chat_widget_loader"),
    path("widget/frame/", widget.widget_frame, name="chat_widget_frame"),
]
