"""HTTP pieces shared by the gateway and the worker apps: bounded body reading, JSON errors, the 500 boundary.

Every error a client can cause is an `HTTPProblem` with a clear message; anything else is a bug, answered with an
opaque 500 and logged (never a traceback on the wire).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from rewardgym import json_codec
from rewardgym.text import replace_lone_surrogates

log = logging.getLogger("rewardgym.http")

BODY_IDLE_TIMEOUT_S = 30.0
"""The longest pause allowed between two pieces of a request body."""


class HTTPProblem(Exception):
    """A client-visible error: status code, message, extra JSON fields and headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra


async def read_body(request: Request, max_bytes: int, idle_timeout_s: float = BODY_IDLE_TIMEOUT_S) -> bytes:
    """The raw body, refusing (413) anything over `max_bytes` without reading past the limit, and (408) a body
    that stalls for `idle_timeout_s`: a slow client may not hold a connection and its buffer forever."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise HTTPProblem(413, f"Request body of {declared} bytes exceeds the limit of {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(idle_timeout_s) as stall:
            async for chunk in request.stream():
                stall.reschedule(loop.time() + idle_timeout_s)
                size += len(chunk)
                if size > max_bytes:
                    raise HTTPProblem(413, f"Request body exceeds the limit of {max_bytes} bytes")
                chunks.append(chunk)
    except TimeoutError as exc:
        raise HTTPProblem(408, f"Expected the request body to keep arriving; nothing came for {idle_timeout_s:g} s",
                          headers={"Connection": "close"}) from exc
    return b"".join(chunks)


async def read_json(request: Request, max_bytes: int) -> Any:
    return parse_json(await read_body(request, max_bytes))


def parse_json(body: bytes) -> Any:
    """The JSON document in `body`; anything the parser refuses is the client's fault (422), never a 500."""
    if not body:
        raise HTTPProblem(422, "Expected a JSON body, got an empty one")
    try:
        return json_codec.loads(body, json.loads)
    except RecursionError as exc:
        raise HTTPProblem(422, "Expected a JSON body, got one nested deeper than the parser's limit") from exc
    except ValueError as exc:  # bad UTF-8, bad JSON, an integer past Python's digit limit
        raise HTTPProblem(422, f"Expected a JSON body: {_truncate(str(exc))}") from exc


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(encode_json(content), status_code=status, media_type="application/json", headers=headers)


def encode_json(content: Any) -> bytes:
    """UTF-8 JSON of `content`. A lone UTF-16 surrogate (legal in a str, not in UTF-8) becomes U+FFFD."""
    return json_codec.dumps(content, _encode_json_slowly)


def _encode_json_slowly(content: Any) -> bytes:
    text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:
        return replace_lone_surrogates(text).encode()


def _truncate(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def problem_response(exc: HTTPProblem) -> Response:
    """The JSON answer to a client-visible error."""
    return json_response({"detail": exc.message, **exc.extra}, exc.status, exc.headers)


def internal_error_response(method: str, path: str) -> Response:
    """Log the exception being handled; answer an opaque 500 (never a traceback on the wire)."""
    log.exception("unhandled error on %s %s", method, path)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPProblem)
    async def _problem(_: Request, exc: HTTPProblem) -> Response:
        return problem_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        return json_response({"detail": exc.detail}, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return internal_error_response(request.method, request.url.path)


def with_fast_post_route(app: FastAPI, prefix: str,
                         handler: Callable[[str, Request], Awaitable[Response]]) -> ASGIApp:
    """`app`, with `POST {prefix}{name}` answered by `handler(name, request)` without FastAPI's routing and
    middleware: for `/score/{env}`, that machinery cost about as much CPU per request as scoring a cheap item.
    The route stays declared in `app` (its OpenAPI schema, and the same handler for in-process clients); errors
    are answered as `install_error_handlers` answers them. Every other request, and every other scope, goes to
    `app`."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        name = path[len(prefix):]
        if scope.get("method") != "POST" or not path.startswith(prefix) or not name or "/" in name:
            await app(scope, receive, send)
            return
        try:
            response = await handler(name, Request(scope, receive))
        except HTTPProblem as exc:
            response = problem_response(exc)
        except Exception:
            response = internal_error_response("POST", path)
        await response(scope, receive, send)

    return serve
