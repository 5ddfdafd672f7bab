"""Length-prefixed messages between the pool (asyncio) and one scoring process (blocking), over a socketpair.

Why not `multiprocessing.Connection`: the pool's end is watched by the event loop, and uvloop makes a watched
descriptor non-blocking, so sending a job of a few hundred KB to a busy process, or receiving a large result,
failed half-way with `BlockingIOError` (issue 7, finding 2). Here the pool's end is non-blocking on purpose, with
its own buffers: a send never blocks the loop, however large the message or however busy the process, and bytes
are read as they arrive and split into messages by an 8-byte length header. The scoring process's end blocks.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import struct
import time
from typing import Callable

HEADER = struct.Struct("!Q")
READ_SIZE = 64 * 1024  # below malloc's mmap threshold: a large read buffer per call costs an mmap
MAX_MESSAGE_BYTES = 1 << 31
"""A larger declared length is a corrupt stream, not a message: refused before anything is allocated."""


class ChannelClosed(Exception):
    """The other end hung up (or sent a corrupt stream)."""


class ProcessChannel:
    """The pool's end of one scoring process's socket: `send` a message, `receive` the next one by a deadline.

    The socket is non-blocking and watched by the event loop for the slot's life. A send writes what the socket
    takes and leaves the rest to a writer callback, so it never blocks the loop; arrived bytes are read into a
    buffer (by `receive` first, without a loop round trip when the result is already there) and split into
    messages. Waiting uses one timer and one future per wait, never a task: a batch of thousands of items costs no
    more than the items themselves.
    """

    def __init__(self, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._fd = sock.fileno()
        self._loop = loop
        self._inbox = bytearray()
        self._messages: collections.deque[bytes] = collections.deque()
        self._outbox = bytearray()
        self._closed: ChannelClosed | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.on_close: Callable[[], None] | None = None
        """Called once when the process hangs up (EOF or a broken stream), even while nobody waits for a message."""
        loop.add_reader(self._fd, self._on_readable)

    @classmethod
    async def open(cls, sock: socket.socket) -> "ProcessChannel":
        return cls(sock, asyncio.get_running_loop())

    def send(self, message: bytes) -> None:
        """Queue `message` for the process; never blocks. Raises `ChannelClosed` if it has hung up."""
        self.send_many([message])

    def send_many(self, messages: list[bytes]) -> None:
        """Queue `messages`, in order, with one write: the process reads them one by one."""
        if self._closed is not None:
            raise self._closed
        data = b"".join(HEADER.pack(len(message)) + message for message in messages)
        if self._outbox:
            self._outbox += data
            return
        try:
            sent = self._sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            self._fail(ChannelClosed(f"the scoring process hung up: {exc!r}"))
            raise ChannelClosed(f"the scoring process hung up: {exc!r}") from exc
        if sent < len(data):
            self._outbox += memoryview(data)[sent:]
            self._loop.add_writer(self._fd, self._flush)

    async def receive(self, deadline: float) -> bytes | None:
        """The next message, or None once the monotonic `deadline` has passed. Raises `ChannelClosed` at EOF."""
        while True:
            message = self.poll()
            if message is not None:
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._waiter = self._loop.create_future()
            timer = self._loop.call_later(remaining, self._wake)
            try:
                await self._waiter
            finally:
                timer.cancel()
                self._waiter = None

    def poll(self) -> bytes | None:
        """The next message if it has already arrived, without waiting. Raises `ChannelClosed` at EOF."""
        if not self._messages and self._closed is None:
            self._pump()
        if self._messages:
            return self._messages.popleft()
        if self._closed is not None:
            raise self._closed
        return None

    def close(self) -> None:
        if self._closed is None:
            self._closed = ChannelClosed("closed by the pool")
        self._unwatch()
        self._sock.close()

    def _on_readable(self) -> None:
        self._pump()
        self._wake()

    def _pump(self) -> None:
        """Read what has arrived, without blocking, and split it into messages."""
        while True:
            try:
                chunk = self._sock.recv(READ_SIZE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self._fail(ChannelClosed(f"the scoring process hung up: {exc!r}"))
                return
            if not chunk:
                self._fail(ChannelClosed("the scoring process closed its end"))
                return
            self._inbox += chunk
            if len(chunk) < READ_SIZE:
                break
        while len(self._inbox) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._inbox)
            if size > MAX_MESSAGE_BYTES:
                self._fail(ChannelClosed(f"Expected a message of at most {MAX_MESSAGE_BYTES} bytes, got a header "
                                         f"announcing {size}"))
                return
            end = HEADER.size + size
            if len(self._inbox) < end:
                break
            self._messages.append(bytes(self._inbox[HEADER.size:end]))
            del self._inbox[:end]

    def _flush(self) -> None:
        try:
            sent = self._sock.send(self._outbox)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fail(ChannelClosed(f"the scoring process hung up: {exc!r}"))
            return
        del self._outbox[:sent]
        if not self._outbox:
            self._loop.remove_writer(self._fd)

    @property
    def closed(self) -> bool:
        return self._closed is not None

    def _fail(self, exc: ChannelClosed) -> None:
        """The stream is over (EOF, error, corruption): stop watching it and wake whoever waits."""
        first = self._closed is None
        if first:
            self._closed = exc
        self._unwatch()
        self._wake()
        if first and self.on_close is not None:
            self.on_close()

    def _unwatch(self) -> None:
        if self._fd >= 0:
            self._loop.remove_reader(self._fd)
            self._loop.remove_writer(self._fd)
            self._fd = -1

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


# --- the scoring process's end (blocking) -----------------------------------------------------------------------


class FrameReader:
    """Reads messages from a blocking socket through a buffer: when the pool sends several jobs at once, they
    arrive in one read, not two reads each."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()

    def has_message(self) -> bool:
        """Whether a whole message has already arrived (so the process has more work in hand)."""
        if len(self._buffer) < HEADER.size:
            return False
        (size,) = HEADER.unpack_from(self._buffer)
        return len(self._buffer) >= HEADER.size + size

    def read(self) -> bytes | None:
        """The next message, or None when the pool has closed its end."""
        while len(self._buffer) < HEADER.size:
            if not self._fill():
                return None
        (size,) = HEADER.unpack_from(self._buffer)
        if size > MAX_MESSAGE_BYTES:
            raise ChannelClosed(f"Expected a message of at most {MAX_MESSAGE_BYTES} bytes, got a header announcing "
                                f"{size}")
        end = HEADER.size + size
        while len(self._buffer) < end:
            if not self._fill():
                return None
        message = bytes(self._buffer[HEADER.size:end])
        del self._buffer[:end]
        return message

    def _fill(self) -> bool:
        chunk = self._sock.recv(READ_SIZE)
        self._buffer += chunk
        return bool(chunk)


def write_message(sock: socket.socket, message: bytes) -> None:
    sock.sendall(HEADER.pack(len(message)) + message)
