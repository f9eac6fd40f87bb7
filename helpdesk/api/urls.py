"""Everything under /api/ on a workspace host. Unknown addresses answer in the API's JSON."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from chat.api import conversations as conversations_api
from chat.api import messages as messages_api
from helpdesk.api import schema  # noqa: F401  (registers the token security scheme)
from helpdesk.api.errors import api_not_found
from helpdesk.contacts import api as contacts_api
from helpdesk.tickets.api import messages as ticket_messages_api
from helpdesk.tickets.api import tickets as tickets_api
from tenants.agents import api as agents_api

router = SimpleRouter()
router.register("agents", agents_api.AgentViewSet, basename="agent")
router.register("conversations", conversations_api.ConversationViewSet, basename="conversation")
router.register("contacts", contacts_api.ContactViewSet, basename="contact")
router.register("tickets", tickets_api.TicketViewSet, basename="ticket")

conversation_messages = messages_api.ConversationMessageViewSet.as_view(
    {"get": "history", "post": "send"}
)
ticket_messages = ticket_messages_api.TicketMessageViewSet.as_view(
    {"get": "history", "post": "send"}
)

v1 = [
    path("me/", agents_api.AgentMeApi.as_view(), name="me"),
    re_path(
        r"^conversations/(?P<pk>[0-9]{1,18})/messages/$",
        conversation_messages,
        name="conversation-messages",
    ),
    re_path(
        r"^tickets/(?P<pk>[0-9]{1,18})/messages/$",
        ticket_messages,
        name="ticket-messages",
    ),
    *router.urls,
]

urlpatterns = [
    path("v1/", include((v1, "api"))),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    re_path(r"^.*$", api_not_found),
]
