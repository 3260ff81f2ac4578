"""Who is calling the server API: `X-App-Id` + `X-App-Key`, and how often."""

import time

from django.conf import settings
from django.core.cache import cache
from ninja.security import APIKeyHeader

from accounts.models import Application
from config.errors import ApiError


def rate_exceeded(application: Application, *, now: float | None = None) -> bool:
    """One more request this second; True if it is over SERVER_API_RATE.

    A counter per application per second in the shared cache (Redis when REDIS_URL
    is set), so the limit holds across server processes.
    """
    second = int(time.time() if now is None else now)
    key = f"parley:server-api:{application.app_id}:{second}"
    cache.add(key, 0, timeout=5)
    return cache.incr(key) > settings.SERVER_API_RATE


class AppKey(APIKeyHeader):
    """`X-App-Id: <app id>` and `X-App-Key: <API key>` (seed 000's X-APP-ID/X-APP-Key)."""

    param_name = "X-App-Key"

    def authenticate(self, request, key):
        app_id = request.headers.get("X-App-Id", "")
        app = Application.objects.filter(app_id=app_id, is_active=True).first()
        if app is None or not key or not app.key_matches(key):
            return None
        if rate_exceeded(app):
            raise ApiError(
                429,
                "rate_limited",
                f"At most {settings.SERVER_API_RATE} requests a second; "
                "try again in a moment.",
            )
        request.application = app
        return app
