"""When to retry a request, and how long to wait first. Pure functions: the sync and async clients share them.

Only transient failures are retried: connection errors (refused, reset, a dropped keep-alive connection), 429
(overloaded: the gateway's queue is full) and 503 (environment not ready). Any other 4xx is the caller's mistake and
is raised at once; a read timeout is not retried either (the server is busy with that request: sending it again
would double its load). Scoring is pure, so re-sending a request that may have reached the server is safe.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import httpx

from rewardgym_client.errors import ConnectionFailed, RetriesExhausted, ServerError

RETRIED_STATUSES = frozenset({429, 503})

RETRIED_EXCEPTIONS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
"""Failures where the server never saw the request or dropped the connection; timeouts of a sent one are not here."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    """Attempts in all, the first included; 1 disables retries."""
    backoff_s: float = 0.2
    """First wait after a connection error or a 429/503 without Retry-After; doubled after each attempt."""
    max_backoff_s: float = 10.0
    """Cap of the exponential backoff (a server's Retry-After is honoured even when longer, up to max_wait_s)."""
    max_wait_s: float = 60.0
    """No single wait is longer than this, whatever Retry-After says."""
    jitter: float = 0.25
    """Each wait is stretched by a random fraction in [0, jitter], so that many clients do not retry in step."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"Expected max_attempts >= 1, got {self.max_attempts}")
        if self.backoff_s < 0 or self.max_backoff_s < 0 or self.max_wait_s < 0 or self.jitter < 0:
            raise ValueError("Expected non-negative backoff_s, max_backoff_s, max_wait_s and jitter")

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based), at least the server's Retry-After."""
        backoff = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        base = max(backoff, retry_after or 0.0)
        stretch = 1.0 + (rng or random).uniform(0.0, self.jitter)
        return min(self.max_wait_s, base * stretch)


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """The `Retry-After` header as seconds: either delta-seconds or an HTTP date; None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_retried_status(status_code: int) -> bool:
    return status_code in RETRIED_STATUSES


def next_delay(policy: RetryPolicy, attempt: int, what: str, *, response: httpx.Response | None = None,
               error: httpx.TransportError | None = None) -> float:
    """Seconds to wait before attempt `attempt + 1`, or raise the error the caller gets when there is none.

    Shared by both clients: their loops only send, call this on a failure, and sleep.
    """
    if error is not None:
        if not isinstance(error, RETRIED_EXCEPTIONS):
            raise ConnectionFailed(f"{what} failed: {error!r}") from error
        if attempt >= policy.max_attempts:
            raise ConnectionFailed(f"{what} failed after {attempt} attempts: {error!r}") from error
        return policy.delay(attempt)
    if response is None:
        raise ValueError("Expected a response or an error, got neither")
    if not is_retried_status(response.status_code):
        raise ServerError.from_response(response)
    if attempt >= policy.max_attempts:
        failed = ServerError.from_response(response)
        raise RetriesExhausted(failed.status_code, failed.detail, failed.body, attempt)
    return policy.delay(attempt, retry_after_seconds(response))
