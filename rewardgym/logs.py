"""Log set-up shared by the gateway and the workers: plain text or JSON lines, and the request id of the request a
log line is about (`X-Request-ID`, set by the gateway's middleware; "-" outside any request)."""

from __future__ import annotations

import contextvars
import json
import logging
import time
from typing import Literal

LogFormat = Literal["text", "json"]

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
"""The id of the request this task is serving; asyncio copies it into every task the request starts."""


class RequestIdFilter(logging.Filter):
    """Puts `current_request_id` on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request_id, message (and the traceback when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s [%(request_id)s] %(message)s"


def configure_logging(log_format: LogFormat = "text", level: int = logging.INFO) -> None:
    """Root logging for a server process: every handler gets the request id; JSON lines with `json`."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonLineFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
