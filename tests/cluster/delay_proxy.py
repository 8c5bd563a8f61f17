"""A TCP proxy in front of one redis-server that slows down replication and nothing else.

``python -m tests.cluster.delay_proxy LISTEN_PORT TARGET_PORT DELAY_SECONDS`` forwards every
connection on loopback. Once a client asks for the replication stream (PSYNC or SYNC), what the
server sends it is held back ``DELAY_SECONDS`` before it is passed on: writes reach the replica
that late, as over a slow link, while clients and Sentinels are served at once. When the server
dies, what it had sent but the proxy still held is dropped, as a primary's replication buffer
dies with it: the writes of the last ``DELAY_SECONDS`` never reach the replica.
"""

from __future__ import annotations

import asyncio
import sys
import time
from contextlib import suppress

REPLICATION_REQUESTS = (b"PSYNC", b"SYNC\r\n")
CHUNK = 65536


class Connection:
    """One client's connection to the server, and whether it carries the replication stream."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.replication = False
        self.held: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def client_to_server(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        seen = b""
        while data := await reader.read(CHUNK):
            if not self.replication:
                seen = (seen + data.upper())[-64:]
                self.replication = any(request in seen for request in REPLICATION_REQUESTS)
            writer.write(data)
            await writer.drain()

    async def server_to_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while data := await reader.read(CHUNK):
            if self.replication:
                await self.held.put((time.monotonic() + self.delay, data))
            else:
                writer.write(data)
                await writer.drain()

    async def pass_on(self, writer: asyncio.StreamWriter) -> None:
        while True:
            due, data = await self.held.get()
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(data)
            await writer.drain()


async def serve(listen: int, target: int, delay: float) -> None:
    async def accept(client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        try:
            server_reader, server = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client.close()
            return
        connection = Connection(delay)
        tasks = [
            asyncio.ensure_future(connection.client_to_server(client_reader, server)),
            asyncio.ensure_future(connection.server_to_client(server_reader, client)),
            asyncio.ensure_future(connection.pass_on(client)),
        ]
        # Whichever side ends first ends the connection, and what was held back is dropped.
        with suppress(OSError):
            await asyncio.wait(tasks[:2], return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for writer in (client, server):
            writer.transport.abort()

    server = await asyncio.start_server(accept, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    listen_port, target_port, delay_seconds = sys.argv[1:4]
    asyncio.run(serve(int(listen_port), int(target_port), float(delay_seconds)))
