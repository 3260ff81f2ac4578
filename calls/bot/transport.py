"""How the bot reaches the server: a tiny connect/send/receive/close interface, and
its WebSocket implementation (the `websockets` library).

The session logic only knows `Transport`, so it can be driven by anything that moves
text frames (aiortc's `contrib/signaling.py` does the same for its examples).
"""

from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI


class TransportError(Exception):
    """The server could not be reached, or refused the handshake."""


class TransportClosed(Exception):
    """The connection is gone; `code` is the WebSocket close code (1006 if none)."""

    def __init__(self, code: int, reason: str = ""):
        super().__init__(f"closed with code {code}" + (f": {reason}" if reason else ""))
        self.code = code
        self.reason = reason


class Transport(Protocol):
    async def connect(self) -> None:
        """Open the connection; raises TransportError."""

    async def send(self, text: str) -> None:
        """Send one text frame; raises TransportClosed."""

    async def receive(self) -> str:
        """The next text frame; raises TransportClosed when the connection ends."""

    async def close(self) -> None:
        """Close the connection (no error if it is already closed)."""


def socket_url(server: str) -> str:
    """The `/ws/` URL of a server given as http(s)://host[:port] or ws(s)://…/ws/.

    Raises ValueError with a message for the user when `server` is not such a URL.
    """
    parts = urlsplit(server.strip())
    schemes = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(
            f"{server!r} is not a server URL; give one like http://127.0.0.1:8000"
        )
    try:
        parts.port  # noqa: B018 - reading it validates it
    except ValueError:
        raise ValueError(f"{server!r} has a bad port") from None
    path = parts.path.rstrip("/")
    if not path.endswith("/ws"):
        path += "/ws"
    return urlunsplit((schemes[parts.scheme], parts.netloc, path + "/", "", ""))


class WebSocketTransport:
    """One WebSocket to `/ws/`, authenticated by a bearer token in the handshake.

    No Origin header: the server then never uses a session cookie for this socket.
    """

    def __init__(self, url: str, token: str, *, open_timeout: float = 10):
        self.url = url
        self.token = token
        self.open_timeout = open_timeout
        self.socket: ClientConnection | None = None

    async def connect(self) -> None:
        try:
            self.socket = await connect(
                self.url,
                additional_headers={"Authorization": f"Bearer {self.token}"},
                open_timeout=self.open_timeout,
                # The protocol has its own keep-alive (`ping` frames); these pings
                # only notice a dead TCP connection sooner.
                ping_interval=20,
                ping_timeout=20,
            )
        except InvalidURI as exc:
            raise TransportError(f"bad URL {self.url}: {exc}") from None
        except InvalidHandshake as exc:
            raise TransportError(f"{self.url} refused the WebSocket: {exc}") from None
        except (OSError, TimeoutError) as exc:
            raise TransportError(f"cannot reach {self.url}: {exc}") from None

    async def send(self, text: str) -> None:
        if self.socket is None:
            raise TransportClosed(1006, "not connected")
        try:
            await self.socket.send(text)
        except ConnectionClosed as exc:
            raise _closed(exc) from None

    async def receive(self) -> str:
        if self.socket is None:
            raise TransportClosed(1006, "not connected")
        try:
            message = await self.socket.recv()
        except ConnectionClosed as exc:
            raise _closed(exc) from None
        return message if isinstance(message, str) else message.decode()

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


def _closed(exc: ConnectionClosed) -> TransportClosed:
    frame = exc.rcvd
    return TransportClosed(frame.code, frame.reason) if frame else TransportClosed(1006)
