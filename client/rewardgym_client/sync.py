"""`RewardClient`: the blocking client. Chunks of one call are sent from a small thread pool."""

from __future__ import annotations

import itertools
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence, TypeVar

import httpx

from rewardgym.protocol import EnvInfo, GeneratedTask, ScoreResult, SessionStarted, SessionState, StepResult

from rewardgym_client import wire as rq
from rewardgym_client.errors import ConnectionFailed
from rewardgym_client.retry import RetryPolicy, next_delay

T = TypeVar("T")
R = TypeVar("R")


class RewardClient:
    """Talks to a rewardgym gateway. Thread-safe; use as a context manager or call `close()`.

    >>> with RewardClient("http://127.0.0.1:8000") as client:
    ...     groups = client.score_groups("math", [{"task": {"answer": "2"}, "completions": ["\\\\boxed{2}", "3"]}])
    """

    def __init__(self, base_url: str = rq.ClientSettings.base_url, *, token: str | None = None,
                 timeout_s: float = rq.ClientSettings.timeout_s, chunk_size: int = rq.ClientSettings.chunk_size,
                 max_concurrency: int = rq.ClientSettings.max_concurrency, retry: RetryPolicy = RetryPolicy(),
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = rq.ClientSettings(base_url, token, timeout_s, chunk_size, max_concurrency, retry)
        socket = self.settings.unix_socket()
        if transport is None:
            transport = httpx.HTTPTransport(uds=socket, limits=self.settings.limits())
        self._http = httpx.Client(base_url=self.settings.http_base_url(), headers=self.settings.headers(),
                                  timeout=timeout_s, transport=transport)
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> "RewardClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._http.close()

    # catalogue and tasks

    def envs(self) -> list[EnvInfo]:
        return rq.parse_envs(self._request("GET", "/v1/envs"))

    def env(self, name: str) -> EnvInfo:
        return rq.parse_env(self._request("GET", f"/v1/envs/{name}"))

    def ready(self) -> bool:
        """True when every worker of the gateway is ready (`GET /readyz` answers 200)."""
        try:
            return self._http.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    def wait_ready(self, timeout_s: float = 120.0, poll_s: float = 0.2) -> None:
        """Block until `ready()`; raise `ConnectionFailed` after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while not self.ready():
            if time.monotonic() > deadline:
                raise ConnectionFailed(f"Expected the gateway at {self.settings.base_url} to be ready within "
                                       f"{timeout_s} s; it is not")
            time.sleep(poll_s)

    def tasks(self, env: str, n: int = 1, *, seed: int = 0, options: dict[str, Any] | None = None
              ) -> list[GeneratedTask]:
        """`n` generated tasks; the same (env version, seed, options) always gives the same tasks."""
        body = {"n": n, "seed": seed, "options": options or {}}
        return rq.parse_tasks(self._request("POST", f"/v1/envs/{env}/tasks", body))

    # scoring

    def score(self, env: str, task: dict[str, Any], completion: str, *, id: str | None = None,
              timeout_s: float | None = None) -> ScoreResult:
        body = rq.with_timeout(rq.item_dict({"completion": completion, "task": task, "id": id}), timeout_s)
        return rq.parse_result(self._request("POST", rq.score_path(env), body))

    def score_batch(self, env: str, items: Sequence[rq.ItemLike], *, timeout_s: float | None = None
                    ) -> list[ScoreResult]:
        """One result per item, in order; sent as requests of at most `chunk_size` items."""
        chunks = rq.chunk_items([rq.item_dict(item) for item in items], self.settings.chunk_size)

        def send(chunk: Sequence[dict[str, Any]]) -> list[ScoreResult]:
            body = rq.with_timeout({"items": list(chunk)}, timeout_s)
            return rq.parse_batch(self._request("POST", rq.score_path(env), body), len(chunk))

        return rq.flatten(self._map(send, chunks))

    def score_groups(self, env: str, groups: Sequence[rq.GroupLike], *, timeout_s: float | None = None
                     ) -> list[list[ScoreResult]]:
        """One list of results per group, in order; whole groups are packed into requests of ~`chunk_size` items."""
        chunks = rq.chunk_groups([rq.group_dict(group) for group in groups], self.settings.chunk_size)

        def send(chunk: list[dict[str, Any]]) -> list[list[ScoreResult]]:
            body = rq.with_timeout({"groups": chunk}, timeout_s)
            sizes = [len(group["completions"]) for group in chunk]
            return rq.parse_groups(self._request("POST", rq.score_path(env), body), sizes)

        return rq.flatten(self._map(send, chunks))

    # multi-turn sessions

    def start_session(self, env: str, *, seed: int, options: dict[str, Any] | None = None) -> SessionStarted:
        """Start an episode of a multi-turn environment; the answer holds its id and opening observation."""
        body = {"seed": seed, "options": options or {}}
        return SessionStarted.model_validate(self._request("POST", f"/v1/envs/{env}/sessions", body))

    def step(self, session_id: str, action: str, *, request_id: str | None = None) -> StepResult:
        """Play one action. Every step carries a `request_id` (a fresh one by default), so a step retried after a
        dropped connection is answered from the server's record, never played twice."""
        body = {"action": action, "request_id": request_id or uuid.uuid4().hex}
        return StepResult.model_validate(self._request("POST", f"/v1/sessions/{session_id}/step", body))

    def session(self, session_id: str) -> SessionState:
        return SessionState.model_validate(self._request("GET", f"/v1/sessions/{session_id}"))

    def close_session(self, session_id: str) -> SessionState:
        """Forget the session; the answer is its final state."""
        return SessionState.model_validate(self._request("DELETE", f"/v1/sessions/{session_id}"))

    # plumbing

    def _map(self, send: Callable[[T], R], chunks: Sequence[T]) -> list[R]:
        if len(chunks) <= 1 or self.settings.max_concurrency == 1:
            return [send(chunk) for chunk in chunks]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.max_concurrency, thread_name_prefix="rewardgym-client")
        return list(self._pool.map(send, chunks))

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send with retries on transient failures only; return the decoded JSON of a 2xx answer."""
        for attempt in itertools.count(1):
            try:
                response = self._http.request(method, path, json=body)
            except httpx.TransportError as exc:
                time.sleep(next_delay(self.settings.retry, attempt, f"{method} {path}", error=exc))
                continue
            if response.status_code < 400:
                return response.json() if response.content else None
            time.sleep(next_delay(self.settings.retry, attempt, f"{method} {path}", response=response))
