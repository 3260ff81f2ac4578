"""ICE servers handed to clients in `hello` and by GET /api/ice-servers: STUN as
configured, TURN with time-limited credentials in coturn's REST-API scheme (username
`expiry:user`, password base64(HMAC-SHA1(secret, username)))."""

import base64
import hashlib
import hmac
import time

from django.conf import settings

from calls.protocol import IceServer


def turn_credentials(*, username: str, now: float | None = None) -> tuple[str, str]:
    expiry = int((now if now is not None else time.time()) + settings.TURN_TTL)
    turn_user = f"{expiry}:{username}"
    digest = hmac.new(
        settings.TURN_SECRET.encode(), turn_user.encode(), hashlib.sha1
    ).digest()
    return turn_user, base64.b64encode(digest).decode()


def ice_servers_for(*, username: str) -> list[IceServer]:
    servers = []
    if settings.STUN_URLS:
        servers.append(IceServer(urls=settings.STUN_URLS))
    if settings.TURN_URLS:
        if settings.TURN_SECRET:
            user, credential = turn_credentials(username=username)
            servers.append(
                IceServer(urls=settings.TURN_URLS, username=user, credential=credential)
            )
        else:
            servers.append(IceServer(urls=settings.TURN_URLS))
    return servers


def ice_servers_ttl() -> int | None:
    """Seconds the credentials of `ice_servers_for()` stay valid; None if none expire."""
    return settings.TURN_TTL if settings.TURN_URLS and settings.TURN_SECRET else None
