"""The client's errors. Lower-level httpx errors are translated here, at one boundary, chained with `from exc`.

    RewardGymError
    ├── ServerError          the server answered with a 4xx/5xx that is not retried, or retries ran out
    │   └── RetriesExhausted     429/503 answers past the retry bound (status, message and attempts kept)
    └── ConnectionFailed     no answer at all: connection refused/reset, or a per-request timeout
"""

from __future__ import annotations

from typing import Any

import httpx


class RewardGymError(Exception):
    """Base of every error raised by `rewardgym_client`."""


class ServerError(RewardGymError):
    """An HTTP error answer. `detail` is the server's message; `body` the whole JSON body when there is one."""

    def __init__(self, status_code: int, detail: str, body: Any = None) -> None:
        super().__init__(f"HTTP {status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail
        self.body = body

    @classmethod
    def from_response(cls, response: httpx.Response) -> "ServerError":
        try:
            body = response.json()
        except ValueError:
            body = None
        detail = body.get("detail") if isinstance(body, dict) else None
        if not isinstance(detail, str):
            detail = response.text[:500] or response.reason_phrase
        return cls(response.status_code, detail, body)


class RetriesExhausted(ServerError):
    """The server kept answering 429 or 503 for every attempt the retry policy allowed."""

    def __init__(self, status_code: int, detail: str, body: Any, attempts: int) -> None:
        super().__init__(status_code, f"{detail} (gave up after {attempts} attempts)", body)
        self.attempts = attempts


class ConnectionFailed(RewardGymError):
    """No HTTP answer: the server is unreachable, dropped the connection, or did not answer in time."""
