"""How an environment's exception becomes a result: a short message on the wire, the traceback in the worker's log.

An exception raised by environment code is an infrastructure failure (`error`, reward null). The client gets one
line that says what and where; the operator gets the full traceback, at most `LOG_BURST` per `LOG_WINDOW_S` per
scoring process, so a broken environment under a trainer's load cannot flood the log.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

log = logging.getLogger("rewardgym.worker.failures")

MAX_MESSAGE_CHARS = 2000
LOG_BURST = 5
LOG_WINDOW_S = 60.0

_window_start = float("-inf")
_logged = 0
_suppressed = 0


def truncate(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "..."


def environment_error(exc: BaseException, env: str, action: str) -> dict[str, Any]:
    """The `error` value for `exc`, raised by `env` while doing `action` (scoring, a step...); logs its traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    message = truncate(f"{type(exc).__name__}: {exc}{where}")
    _log_traceback(exc, f"{env}: {action} raised {message}")
    return {"message": message}


def _log_traceback(exc: BaseException, summary: str) -> None:
    global _window_start, _logged, _suppressed
    now = time.monotonic()
    if now - _window_start > LOG_WINDOW_S:
        if _suppressed:
            log.error("%d more environment tracebacks were not logged in the last %.0f s", _suppressed, LOG_WINDOW_S)
        _window_start, _logged, _suppressed = now, 0, 0
    if _logged >= LOG_BURST:
        _suppressed += 1
        return
    _logged += 1
    log.error("%s\n%s", summary, "".join(traceback.format_exception(exc)).rstrip())
