"""ASGI entry point: HTTP through Django, `/ws/` through the socket consumer."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from calls.origin import OriginCheck  # noqa: E402
from calls.routing import websocket_urlpatterns  # noqa: E402
from calls.session_user import SessionUserStack  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginCheck(SessionUserStack(URLRouter(websocket_urlpatterns))),
    }
)

# A full garbage collection walks every object of every open socket and found nothing
# to free, yet it held the loop for 100-300 ms at 1 000 sockets (docs/performance.md).
# What exists now (Django, the app) is never garbage: leave it out of every collection;
# and collect the young generation less often, so that full collections come rarer.
gc.freeze()
gc.set_threshold(10_000, 10, 100)
