import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.dev")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from helpdesk.realtime.middleware import TenantWebsocketMiddleware  # noqa: E402
from helpdesk.realtime.routing import websocket_urlpatterns  # noqa: E402

http_app = django_asgi_app
if settings.SERVE_STATIC:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    http_app = ASGIStaticFilesHandler(django_asgi_app)

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": TenantWebsocketMiddleware(URLRouter(websocket_urlpatterns)),
    }
)

# The web process holds every open socket's objects for hours, and Python's cyclic collector
# walks all of them whenever allocations pile up: with its default thresholds, a thousand chat
# sockets at a thousand messages a second spent ~20 % of the process's time in collections
# (docs/benchmarks.md). Collect the youngest generation after 20,000 allocations instead of
# 700, and leave what startup built (modules, settings, URL patterns) out of every collection.
gc.set_threshold(20_000, 10, 10)
gc.freeze()
