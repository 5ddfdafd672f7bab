"""`AsyncRewardClient`: the asyncio client. Chunks of one call run as tasks, at most `max_concurrency` at once."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from typing import Any, Awaitable, Callable, Sequence, TypeVar

import httpx

from rewardgym.protocol import EnvInfo, GeneratedTask, ScoreResult, SessionStarted, SessionState, StepResult

from rewardgym_client import wire as rq
from rewardgym_client.errors import ConnectionFailed
from rewardgym_client.retry import RetryPolicy, next_delay

T = TypeVar("T")
R = TypeVar("R")


class AsyncRewardClient:
    """The same API as `RewardClient`, awaited. Use `async with` or `await client.aclose()`."""

    def __init__(self, base_url: str = rq.ClientSettings.base_url, *, token: str | None = None,
                 timeout_s: float = rq.ClientSettings.timeout_s, chunk_size: int = rq.ClientSettings.chunk_size,
                 max_concurrency: int = rq.ClientSettings.max_concurrency, retry: RetryPolicy = RetryPolicy(),
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = rq.ClientSettings(base_url, token, timeout_s, chunk_size, max_concurrency, retry)
        if transport is None:
            transport = httpx.AsyncHTTPTransport(uds=self.settings.unix_socket(), limits=self.settings.limits())
        self._http = httpx.AsyncClient(base_url=self.settings.http_base_url(), headers=self.settings.headers(),
                                       timeout=timeout_s, transport=transport)

    async def __aenter__(self) -> "AsyncRewardClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def envs(self) -> list[EnvInfo]:
        return rq.parse_envs(await self._request("GET", "/v1/envs"))

    async def env(self, name: str) -> EnvInfo:
        return rq.parse_env(await self._request("GET", f"/v1/envs/{name}"))

    async def ready(self) -> bool:
        try:
            return (await self._http.get("/readyz")).status_code == 200
        except httpx.TransportError:
            return False

    async def wait_ready(self, timeout_s: float = 120.0, poll_s: float = 0.2) -> None:
        deadline = time.monotonic() + timeout_s
        while not await self.ready():
            if time.monotonic() > deadline:
                raise ConnectionFailed(f"Expected the gateway at {self.settings.base_url} to be ready within "
                                       f"{timeout_s} s; it is not")
            await asyncio.sleep(poll_s)

    async def tasks(self, env: str, n: int = 1, *, seed: int = 0, options: dict[str, Any] | None = None
                    ) -> list[GeneratedTask]:
        body = {"n": n, "seed": seed, "options": options or {}}
        return rq.parse_tasks(await self._request("POST", f"/v1/envs/{env}/tasks", body))

    async def score(self, env: str, task: dict[str, Any], completion: str, *, id: str | None = None,
                    timeout_s: float | None = None) -> ScoreResult:
        body = rq.with_timeout(rq.item_dict({"completion": completion, "task": task, "id": id}), timeout_s)
        return rq.parse_result(await self._request("POST", rq.score_path(env), body))

    async def score_batch(self, env: str, items: Sequence[rq.ItemLike], *, timeout_s: float | None = None
                          ) -> list[ScoreResult]:
        chunks = rq.chunk_items([rq.item_dict(item) for item in items], self.settings.chunk_size)

        async def send(chunk: Sequence[dict[str, Any]]) -> list[ScoreResult]:
            body = rq.with_timeout({"items": list(chunk)}, timeout_s)
            return rq.parse_batch(await self._request("POST", rq.score_path(env), body), len(chunk))

        return rq.flatten(await self._map(send, chunks))

    async def score_groups(self, env: str, groups: Sequence[rq.GroupLike], *, timeout_s: float | None = None
                           ) -> list[list[ScoreResult]]:
        chunks = rq.chunk_groups([rq.group_dict(group) for group in groups], self.settings.chunk_size)

        async def send(chunk: list[dict[str, Any]]) -> list[list[ScoreResult]]:
            body = rq.with_timeout({"groups": chunk}, timeout_s)
            sizes = [len(group["completions"]) for group in chunk]
            return rq.parse_groups(await self._request("POST", rq.score_path(env), body), sizes)

        return rq.flatten(await self._map(send, chunks))

    # multi-turn sessions

    async def start_session(self, env: str, *, seed: int, options: dict[str, Any] | None = None) -> SessionStarted:
        """Start an episode of a multi-turn environment; the answer holds its id and opening observation."""
        body = {"seed": seed, "options": options or {}}
        return SessionStarted.model_validate(await self._request("POST", f"/v1/envs/{env}/sessions", body))

    async def step(self, session_id: str, action: str, *, request_id: str | None = None) -> StepResult:
        """Play one action. Every step carries a `request_id` (a fresh one by default), so a step retried after a
        dropped connection is answered from the server's record, never played twice."""
        body = {"action": action, "request_id": request_id or uuid.uuid4().hex}
        return StepResult.model_validate(await self._request("POST", f"/v1/sessions/{session_id}/step", body))

    async def session(self, session_id: str) -> SessionState:
        return SessionState.model_validate(await self._request("GET", f"/v1/sessions/{session_id}"))

    async def close_session(self, session_id: str) -> SessionState:
        """Forget the session; the answer is its final state."""
        return SessionState.model_validate(await self._request("DELETE", f"/v1/sessions/{session_id}"))

    async def _map(self, send: Callable[[T], Awaitable[R]], chunks: Sequence[T]) -> list[R]:
        gate = asyncio.Semaphore(self.settings.max_concurrency)

        async def bounded(chunk: T) -> R:
            async with gate:
                return await send(chunk)

        return list(await asyncio.gather(*(bounded(chunk) for chunk in chunks)))

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        for attempt in itertools.count(1):
            try:
                response = await self._http.request(method, path, json=body)
            except httpx.TransportError as exc:
                await asyncio.sleep(next_delay(self.settings.retry, attempt, f"{method} {path}", error=exc))
                continue
            if response.status_code < 400:
                return response.json() if response.content else None
            await asyncio.sleep(next_delay(self.settings.retry, attempt, f"{method} {path}", response=response))
