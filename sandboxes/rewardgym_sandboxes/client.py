"""Client for the sandbox supervisor: one job per call, over its Unix socket (standard library only)."""

from __future__ import annotations

import socket

from .supervisor.protocol import ProtocolError, recv_frame, send_frame

__all__ = ["SandboxUnavailable", "run_job", "supervisor_info"]


class SandboxUnavailable(Exception):
    """The supervisor could not be reached or did not answer in time: an infrastructure error (IE)."""


def _call(socket_path: str, message: dict, timeout: float) -> dict:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(socket_path)
            send_frame(sock, message)
            reply = recv_frame(sock)
    except (OSError, ProtocolError) as exc:  # socket.timeout is an OSError
        raise SandboxUnavailable(f"supervisor at {socket_path}: {type(exc).__name__}: {exc}") from exc
    if reply is None:
        raise SandboxUnavailable(f"supervisor at {socket_path} closed the connection without a reply")
    return reply


def run_job(socket_path: str, job: dict, timeout: float) -> dict:
    """Send ``job`` (see sandboxes/README.md) and return the supervisor's result.

    ``timeout`` bounds the whole call (connect, run, reply); choose it above the sum of the job's wall
    limits plus the compile limit. Raises ``SandboxUnavailable`` on any transport failure."""
    return _call(socket_path, job, timeout)


def supervisor_info(socket_path: str, timeout: float = 5.0) -> dict:
    """Version, languages and the isolation in force."""
    return _call(socket_path, {"op": "info"}, timeout)
