"""Forward a unix socket to a TCP address (a tiny socat).

The test suite runs in a network namespace that has only its own loopback, so a
service listening on the host's 127.0.0.1 (the machine's Redis or PostgreSQL) is out of
reach by TCP; a unix socket in the shared filesystem reaches it.

    python scripts/unix_bridge.py /tmp/x/redis.sock 127.0.0.1 6379
"""

import asyncio
import contextlib
import os
import signal
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def serve(path: str, host: str, port: int) -> None:
    async def handle(client_r, client_w):
        try:
            server_r, server_w = await asyncio.open_connection(host, port)
        except OSError:
            client_w.close()
            return
        with contextlib.suppress(asyncio.CancelledError):  # shutting down
            await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    server = await asyncio.start_unix_server(handle, path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2], int(sys.argv[3])))
