"""A small HTTP/1.1 client for the gateway's hop to its workers (Unix socket or TCP), with keep-alive.

Why not httpx here: on this hop every request costs the gateway CPU that the scoring processes need, and
httpx/httpcore spent ~2 ms per request (an expiry check of every pooled connection, anyio layers). This client
does only what the worker protocol uses: one request at a time per connection, Content-Length or chunked bodies,
JSON. Every failure is a `WorkerUnavailable`, so the gateway has one error type to turn into `error` results.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

MAX_HEADER_BYTES = 64 * 1024


class WorkerUnavailable(Exception):
    """The worker could not be reached, hung up, answered garbage, or took longer than allowed."""


class WorkerTimedOut(WorkerUnavailable):
    """The worker took longer than allowed: it may still be working, so its items are not re-run elsewhere."""


@dataclass
class WorkerResponse:
    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.content)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


class WorkerClient:
    """Keep-alive connections to one worker. `uds` or `host`/`port`; `max_idle` connections are kept."""

    def __init__(self, *, uds: str | None = None, host: str | None = None, port: int | None = None,
                 max_idle: int = 64, token: str | None = None) -> None:
        """`token`: sent as `Authorization: Bearer` on every request (workers on TCP require one; see auth.py)."""
        if not uds and not (host and port):
            raise ValueError("Expected a Unix socket path or a host and port")
        self.uds, self.host, self.port = uds, host, port
        self._auth_header = f"authorization: Bearer {token}\r\n" if token else ""
        self.max_idle = max_idle
        self._idle: list[_Connection] = []
        self._closed = False

    @classmethod
    def for_url(cls, url: str, token: str | None = None) -> "WorkerClient":
        """`http://host:port` of a remote worker."""
        scheme, _, rest = url.partition("://")
        host, _, port = rest.rstrip("/").partition(":")
        if scheme != "http" or not host or not port.isdigit():
            raise ValueError(f"Expected a worker URL like http://host:8100, got {url!r}")
        return cls(host=host, port=int(port), token=token)

    async def get(self, path: str, timeout: float | None = None) -> WorkerResponse:
        return await self.request("GET", path, None, timeout)

    async def post(self, path: str, content: bytes, timeout: float | None = None) -> WorkerResponse:
        return await self.request("POST", path, content, timeout)

    async def request(self, method: str, path: str, body: bytes | None, timeout: float | None) -> WorkerResponse:
        try:
            return await asyncio.wait_for(self._request(method, path, body), timeout)
        except asyncio.TimeoutError as exc:
            raise WorkerTimedOut(f"no answer to {method} {path} within {timeout:g} s") from exc

    async def _request(self, method: str, path: str, body: bytes | None) -> WorkerResponse:
        head = f"{method} {path} HTTP/1.1\r\nhost: worker\r\n{self._auth_header}"
        if body is not None:
            head += f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
        message = (head + "\r\n").encode() + (body or b"")
        reused = self._take_idle()
        if reused is not None:
            try:
                return await self._exchange(reused, message)
            except _StaleConnection:
                pass  # the worker closed an idle connection before reading: safe to send again on a new one
        try:
            return await self._exchange(await self._connect(), message)
        except _StaleConnection as exc:
            raise WorkerUnavailable(f"worker closed the connection during {method} {path}") from exc

    async def _exchange(self, connection: _Connection, message: bytes) -> WorkerResponse:
        try:
            connection.writer.write(message)
            await connection.writer.drain()
            try:
                status_line = await connection.reader.readline()
            except (ConnectionResetError, BrokenPipeError):
                status_line = b""  # hung up without answering a byte (e.g. closed with our request unread)
            if not status_line:
                connection.close()
                raise _StaleConnection()
            response, keep_alive = await _read_response(status_line, connection.reader)
        except _StaleConnection:
            raise
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            connection.close()
            raise WorkerUnavailable(f"worker connection failed: {type(exc).__name__}: {exc}") from exc
        except BaseException:
            connection.close()  # cancelled mid-exchange: the connection is in an unknown state
            raise
        if keep_alive and len(self._idle) < self.max_idle and not self._closed:
            self._idle.append(connection)
        else:
            connection.close()
        return response

    def _take_idle(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable():
                return connection
            connection.close()
        return None

    async def _connect(self) -> _Connection:
        try:
            if self.uds:
                reader, writer = await asyncio.open_unix_connection(self.uds, limit=MAX_HEADER_BYTES)
            else:
                reader, writer = await asyncio.open_connection(self.host, self.port, limit=MAX_HEADER_BYTES)
        except OSError as exc:
            raise WorkerUnavailable(f"cannot connect to the worker: {exc}") from exc
        return _Connection(reader, writer)

    async def aclose(self) -> None:
        self._closed = True
        for connection in self._idle:
            connection.close()
        self._idle.clear()


class _StaleConnection(Exception):
    """The peer closed the connection without answering a byte."""


async def _read_response(status_line: bytes, reader: asyncio.StreamReader) -> tuple[WorkerResponse, bool]:
    parts = status_line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"malformed status line {status_line[:80]!r}")
    headers: dict[str, str] = {}
    size = len(status_line)
    while True:
        line = await reader.readline()
        size += len(line)
        if size > MAX_HEADER_BYTES:
            raise ValueError("response headers too large")
        if line in (b"\r\n", b"\n"):
            break
        if not line:
            raise asyncio.IncompleteReadError(b"", None)
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        content = await _read_chunked(reader)
    else:
        content = await reader.readexactly(int(headers.get("content-length", "0")))
    keep_alive = headers.get("connection", "").lower() != "close" and parts[0] == "HTTP/1.1"
    return WorkerResponse(int(parts[1]), content, headers), keep_alive


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
