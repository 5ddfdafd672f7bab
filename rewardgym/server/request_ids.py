"""`X-Request-ID`: the gateway takes the client's (when it is a short token) or assigns one, returns it on the
response, and every log line written while serving the request carries it (rewardgym/logs.py)."""

from __future__ import annotations

import re
import uuid
from typing import Any, Awaitable, Callable

from rewardgym.logs import current_request_id

HEADER = b"x-request-id"
_ACCEPTABLE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


def with_request_ids(app: ASGIApp) -> ASGIApp:
    """`app` with request ids: a client's id that is not a short token of safe characters is replaced."""

    async def identified(scope: Scope, receive: Callable[[], Awaitable[Message]],
                         send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == HEADER), b"")
        request_id = given if _ACCEPTABLE.fullmatch(given) else uuid.uuid4().hex.encode()
        token = current_request_id.set(request_id.decode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (HEADER, request_id)]}
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)

    return identified
