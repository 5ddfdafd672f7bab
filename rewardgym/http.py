"""HTTP pieces shared by the gateway and the worker apps: bounded body reading, JSON errors, the 500 boundary.

Every error a client can cause is an `HTTPProblem` with a clear message; anything else is a bug, answered with an
opaque 500 and logged (never a traceback on the wire).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("rewardgym.http")


class HTTPProblem(Exception):
    """A client-visible error: status code, message, extra JSON fields and headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refusing (413) anything over `max_bytes` without reading past the limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise HTTPProblem(413, f"Request body of {declared} bytes exceeds the limit of {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise HTTPProblem(413, f"Request body exceeds the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, max_bytes: int) -> Any:
    return parse_json(await read_body(request, max_bytes))


def parse_json(body: bytes) -> Any:
    if not body:
        raise HTTPProblem(422, "Expected a JSON body, got an empty one")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPProblem(422, f"Expected a JSON body: {exc}") from exc


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPProblem)
    async def _problem(_: Request, exc: HTTPProblem) -> Response:
        return json_response({"detail": exc.message, **exc.extra}, exc.status, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        return json_response({"detail": exc.detail}, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal server error"}, status_code=500)
