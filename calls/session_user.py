"""The session's user on a socket, looked up only when the socket needs it.

Channels' AuthMiddlewareStack reads the session's user before the consumer starts,
in the one database thread of the process, so every handshake (a token client's too,
which has no session) waited there behind sign-ins and call work: under load the
handshake outlasted daphne's 5 s limit and was reset (`make bench`,
docs/performance.md). Here `scope["user"]` is a lazy object instead, evaluated by
accounts.usersig.socket_user on the database thread after the socket is accepted.
"""

from functools import partial

from channels.auth import get_user
from channels.middleware import BaseMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.utils.functional import SimpleLazyObject

# channels.auth.get_user is a database_sync_to_async wrapper; this is its body.
session_user = get_user.func


class LazySessionUserMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        scope["user"] = SimpleLazyObject(partial(session_user, scope))
        return await super().__call__(scope, receive, send)


def SessionUserStack(inner):
    """Cookies, the session, and the session's user when first read (synchronously)."""
    return CookieMiddleware(SessionMiddleware(LazySessionUserMiddleware(inner)))
