from django.urls import path, re_path

from helpdesk.realtime.consumers import AgentConsumer
from helpdesk.realtime.middleware import (
    CLOSE_NOT_FOUND,
    AgentSessionMiddleware,
    TenantOriginMiddleware,
    websocket_refuse,
)


async def _no_such_socket(scope, receive, send):
    await websocket_refuse(receive, send, code=CLOSE_NOT_FOUND)


# Every route sits behind TenantWebsocketMiddleware (helpdesk/asgi.py), so scope["tenant"] is set.
websocket_urlpatterns = [
    path(
        "ws/agent/",
        TenantOriginMiddleware(AgentSessionMiddleware(AgentConsumer.as_asgi())),
    ),
    # Unknown paths are refused like unknown hosts instead of raising inside the router.
    re_path(r"", _no_such_socket),
]
