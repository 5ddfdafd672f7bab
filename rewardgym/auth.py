"""Shared-token authentication of the gateway and of TCP workers (docs/hpc.md).

On a cluster, workers listen on the training nodes' network and the gateway on the orchestrator's: anything that
is not loopback needs a token. The token lives in a file of mode 0600 (created by the launcher), never on a
command line. The check is a small ASGI middleware in front of the app: `/healthz` stays open (liveness probes
carry no token), every other route answers 401 without the right `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import stat
from typing import Any, Awaitable, Callable

OPEN_PATHS = frozenset({"/healthz"})

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class TokenFileError(ValueError):
    """A token file that is missing, empty, or readable by others."""


def read_token_file(path: str) -> str:
    """The token in `path`, refusing a file that group or others may read (mode 0600 expected)."""
    try:
        info = os.stat(path)
        with open(path, encoding="utf-8") as handle:
            token = handle.read().strip()
    except OSError as exc:
        raise TokenFileError(f"Expected a readable token file at {path}: {exc}") from exc
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenFileError(f"Expected token file {path} to be mode 0600, got {stat.S_IMODE(info.st_mode):04o} "
                             f"(chmod 600 {path})")
    if len(token) < 16:
        raise TokenFileError(f"Expected a token of at least 16 characters in {path}, got {len(token)}")
    return token


def write_token_file(path: str) -> str:
    """Create `path` (mode 0600) holding a new random token, and return the token."""
    token = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    return token


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_token(app: ASGIApp, token: str, open_paths: frozenset[str] = OPEN_PATHS) -> ASGIApp:
    """`app` behind a bearer-token check; `open_paths` and non-HTTP scopes (lifespan) pass unchecked."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in open_paths:
            await app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        if secrets.compare_digest(given, expected):
            await app(scope, receive, send)
            return
        detail = "Expected a bearer token (Authorization: Bearer ...)" if not given else "The bearer token is wrong"
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b"Bearer")]})
        await send({"type": "http.response.body", "body": body})

    return guarded
