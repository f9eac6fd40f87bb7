from django.urls import path, re_path

from chat.consumers import WidgetConsumer
from helpdesk.realtime.bench_relay import bench_relay_routes
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
    # /ws/bench/relay/ only with BENCH_RELAY_ENABLED (bench/chat_load.py's floor).
    *bench_relay_routes(),
    # The widget frame is served from the workspace's host, so its Origin is one of them too.
    path("ws/widget/", TenantOriginMiddleware(WidgetConsumer.as_asgi())),
    # Unknown paths are refused like unknown hosts instead of raising inside the router.
    re_path(r"", _no_such_socket),
]
