"""Cross-origin WebSockets are refused at the handshake.

A browser always sends `Origin`; it must name one of ALLOWED_HOSTS. Clients that send no
`Origin` (the bot, an app backend) are let through, but such a socket may only
authenticate with a token, never with a session cookie (see calls.consumers).
"""

from channels.security.websocket import AllowedHostsOriginValidator


class OriginCheck:
    def __init__(self, application):
        self.validator = AllowedHostsOriginValidator(application)
        self.application = application

    async def __call__(self, scope, receive, send):
        has_origin = any(name == b"origin" for name, _ in scope.get("headers", []))
        if has_origin:
            return await self.validator(scope, receive, send)
        return await self.application(
            dict(scope, cookie_auth_allowed=False), receive, send
        )
