"""Real sockets for tests: /ws/ opened through the project's ASGI stack."""

import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


class Socket(WebsocketCommunicator):
    """A WebsocketCommunicator that speaks JSON frames."""

    closed = False

    async def send_frame(self, frame) -> None:
        await self.send_to(text_data=json.dumps(frame))

    async def frame(self, timeout: float = 2) -> dict:
        return json.loads(await self.receive_from(timeout))

    async def frame_of(self, type_: str, timeout: float = 2) -> dict:
        """The next frame of `type_`, skipping others (presence chatter)."""
        while True:
            frame = await self.frame(timeout)
            if frame["type"] == type_:
                return frame

    async def frames_until(self, type_: str) -> list[dict]:
        """Every frame up to and including the next one of `type_`."""
        frames = [await self.frame()]
        while frames[-1]["type"] != type_:
            frames.append(await self.frame())
        return frames

    async def fenced(self) -> list[dict]:
        """Every frame the socket got before a ping's pong."""
        await self.send_frame({"type": "ping", "req": "fence"})
        return (await self.frames_until("pong"))[:-1]

    async def closed_with(self, timeout: float = 2) -> int:
        """Wait for the server to close the socket; its close code."""
        while True:
            message = await self.receive_output(timeout)
            if message["type"] == "websocket.close":
                self.closed = True
                return message.get("code", 1000)


@database_sync_to_async
def session_cookie(user) -> tuple[bytes, bytes]:
    """A real session for `user`, as the Cookie header a signed-in browser sends."""
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def bearer(token: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {token}".encode())
