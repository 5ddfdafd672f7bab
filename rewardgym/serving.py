"""How the gateway and the workers serve HTTP: uvicorn, with a header deadline and a cap on open connections.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but a connection that never sends a
request, or sends its headers a byte at a time, stays open for ever (issue 7, finding 10): thousands of them use up
the process's file descriptors, and then real requests are dropped. `guarded_protocol` adds to uvicorn's httptools
protocol:

- a header deadline: a request's headers must be complete within `header_timeout_s` of the connection being
  accepted (or of the previous response on it), else the connection is closed;
- a cap on open connections: past it, the connection that has waited longest for a request is closed to make room,
  so what is dropped is an idle connection, never a request in progress (the newcomer only when all others are).

A request body that stalls is refused by `rewardgym.http.read_body` (408), which every body-reading route uses.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import resource
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("rewardgym.serving")

FILE_DESCRIPTOR_RESERVE = 512
"""Descriptors kept for what is not a client connection: worker sockets, sandboxes, logs, Docker."""


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout_s: float = 10.0
    """From accept (or the previous response) to the end of a request's headers."""
    max_connections: int = 16_384
    """Open client connections; lowered to what the open-file limit allows."""
    keep_alive_s: int = 5
    """uvicorn's idle time between requests on one connection."""


def server_config(app: Any, limits: ConnectionLimits, **options: Any) -> uvicorn.Config:
    """A uvicorn config for `app` with `limits`; `options` are uvicorn's (host/port or uds, log level, ...)."""
    file_limit = raise_open_file_limit()
    cap = max(1, min(limits.max_connections, file_limit - FILE_DESCRIPTOR_RESERVE))
    if cap < limits.max_connections:
        log.warning("at most %d client connections: the open-file limit is %d", cap, file_limit)
    return uvicorn.Config(app, http=guarded_protocol(limits.header_timeout_s, cap),
                          timeout_keep_alive=limits.keep_alive_s, **options)


def raise_open_file_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (capped at 1M); returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 1 << 20 if hard == resource.RLIM_INFINITY else min(hard, 1 << 20)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft if soft != resource.RLIM_INFINITY else target
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        log.warning("cannot raise the open-file limit from %d to %d: %s", soft, target, exc)
        return soft
    return target


def guarded_protocol(header_timeout_s: float, max_connections: int) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the header deadline and the connection cap (one class per server: the
    connections waiting for a request are shared by that server's connections)."""
    if header_timeout_s <= 0 or max_connections < 1:
        raise ValueError(f"Expected a positive header timeout and connection cap, got {header_timeout_s} and "
                         f"{max_connections}")
    waiting: collections.OrderedDict[GuardedHttp, None] = collections.OrderedDict()

    class GuardedHttp(HttpToolsProtocol):
        _header_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._await_request()
            if len(self.connections) > max_connections:
                oldest = next(iter(waiting))  # this one is the newest: another if any waits
                waiting.pop(oldest)
                oldest._stop_waiting()
                oldest.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_waiting()
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            self._stop_waiting()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.cycle.response_complete and not self.transport.is_closing():  # not a pipelined one started
                self._await_request()

        def _await_request(self) -> None:
            self._stop_waiting()
            waiting[self] = None
            self._header_deadline = self.loop.call_later(header_timeout_s, self._headers_too_late)

        def _stop_waiting(self) -> None:
            waiting.pop(self, None)
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None

        def _headers_too_late(self) -> None:
            self._header_deadline = None
            waiting.pop(self, None)
            if not self.transport.is_closing():
                self.transport.close()

    return GuardedHttp
