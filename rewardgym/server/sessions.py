"""The gateway's session routes: a session lives in one worker, and its public id says which.

The gateway keeps no session state. A public session id is `<worker key>-<worker's session id>`: the worker key
(a hash of the handle's name) picks the `WorkerHandle`. Whether the game still exists is the worker's to say: its
session ids start with the id of its own run, so a worker process that restarted refuses the ids of the one
before with 410, while a worker that only missed a few health checks (a busy remote node) still serves its
sessions when it is back. While the worker is out of rotation, its sessions answer 503 with `Retry-After`. Whatever
the worker answers (404 unknown or expired, 409 episode over, 410 gone, 422 bad input, 429 cap, 504 step deadline)
passes through unchanged.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import math
import re
from typing import Any, Callable
from fastapi import Request
from fastapi.responses import Response

from pydantic import BaseModel, ValidationError

from rewardgym.http import HTTPProblem, json_response, parse_json, read_body
from rewardgym.protocol import DeletesRequest, StartsRequest, StepsRequest, describe_validation_error
from rewardgym.server.router import Router
from rewardgym.server.runtimes.base import WorkerHandle
from rewardgym.server.settings import GatewaySettings
from rewardgym.server.worker_client import WorkerResponse, WorkerTimedOut, WorkerUnavailable

_PUBLIC_ID = re.compile(r"([0-9a-f]{8})-([0-9a-f][0-9a-f-]{0,79})")
PASSED_HEADERS = ("retry-after",)


def worker_key(handle: WorkerHandle) -> str:
    """A short stable name of a worker for session ids (its name may be a URL or an image reference)."""
    return _key_of(handle.name)


@functools.lru_cache(maxsize=1024)
def _key_of(name: str) -> str:
    return hashlib.blake2s(name.encode(), digest_size=4).hexdigest()


class SessionRoutes:
    """`POST /v1/envs/{env}/sessions`, `POST /v1/sessions/{id}/step`, `GET` and `DELETE /v1/sessions/{id}`, and
    their batched forms `POST /v1/sessions/starts`, `/steps` and `/deletes`."""

    def __init__(self, router: Router, settings: GatewaySettings) -> None:
        self.router = router
        self.settings = settings

    async def create(self, env: str, request: Request) -> Response:
        handle = self.pick(env)
        body = await read_body(request, self.settings.max_body_bytes)
        answer = await self.call(handle, "POST", f"/v1/envs/{env}/sessions", body, "starting the session")
        if answer.status_code != 200:
            return _passed(answer)
        started = answer.json()
        started["session_id"] = f"{worker_key(handle)}-{started['session_id']}"
        return json_response(started)

    async def step(self, session_id: str, request: Request) -> Response:
        handle, local_id = self.locate(session_id)
        body = await read_body(request, self.settings.max_body_bytes)
        return _passed(await self.call(handle, "POST", f"/v1/sessions/{local_id}/step", body, "the step"))

    async def starts(self, request: Request) -> Response:
        """Many sessions started in one request (a vectorised env's reset), answered in request order: each result
        is what `POST /v1/envs/{env}/sessions` answers, with `"status": 200`, or that route's error code and its
        `detail`; one session's failure is its own."""
        # Split by environment, each share to one worker of that environment.
        body = await read_body(request, self.settings.max_body_bytes)
        starts = self.parse(StartsRequest, body, "starts request")
        batch = _Batch(len(starts))
        handles: dict[str, WorkerHandle] = {}  # one worker per environment and request
        for index, item in enumerate(starts):
            try:
                if item.env not in handles:
                    handles[item.env] = self.pick(item.env)
            except HTTPProblem as exc:
                batch.fail(index, exc)
                continue
            batch.add(handles[item.env], index, item)
        return await self.send(batch, body, "starts", "the session starts",
                               lambda handle: f"/v1/sessions/starts?prefix={worker_key(handle)}")

    async def steps(self, request: Request) -> Response:
        """One step in each of many sessions (a vectorised env's step), answered in request order: each result is
        the step's answer with `"status": 200`, or the code the single-step route would answer and its `detail`.
        A step sent again with its `request_id` gets its recorded answer; two steps of one session are played in
        request order."""
        # Split by worker, each share sent at once.
        body = await read_body(request, self.settings.max_body_bytes)
        steps = self.parse(StepsRequest, body, "steps request")
        batch = _Batch(len(steps))
        for index, item in enumerate(steps):
            try:
                batch.add(self.locate(item.session_id)[0], index, item)
            except HTTPProblem as exc:
                batch.fail(index, exc)
        return await self.send(batch, body, "steps", "the steps", lambda _: "/v1/sessions/steps")

    async def deletes(self, request: Request) -> Response:
        """Many sessions forgotten in one request (a vectorised env's close), answered in request order: each result
        is the session's final state (as `DELETE /v1/sessions/{id}` answers it) with `"status": 200`, or 404/410
        and its `detail`."""
        body = await read_body(request, self.settings.max_body_bytes)
        session_ids = self.parse(DeletesRequest, body, "deletes request")
        batch = _Batch(len(session_ids))
        for index, session_id in enumerate(session_ids):
            try:
                batch.add(self.locate(session_id)[0], index, session_id)
            except HTTPProblem as exc:
                batch.fail(index, exc)
        return await self.send(batch, body, "session_ids", "deleting the sessions", lambda _: "/v1/sessions/deletes")

    @staticmethod
    def parse(model: Any, body: bytes, what: str) -> list[Any]:
        """The list a batch request carries (its model's one field), or 422."""
        try:
            request = model.model_validate(parse_json(body))
        except ValidationError as exc:
            raise HTTPProblem(422, describe_validation_error(exc, what)) from exc
        return getattr(request, next(iter(model.model_fields)))

    async def send(self, batch: "_Batch", body: bytes, key: str, what: str,
                   path: Callable[[WorkerHandle], str]) -> Response:
        """Each worker's share of `batch` in one request to it, all at once, and the results in request order; a
        worker's failure is each of its items' result. Workers take public session ids and give them back, so when
        one worker has every item, the request and its answer pass through unread."""
        if len(batch.shares) == 1 and not batch.failed:
            handle, _, items = next(iter(batch.shares.values()))
            try:
                answer = await self.call(handle, "POST", path(handle), body, what, len(items))
            except HTTPProblem as exc:
                return json_response({"results": [_failure(exc) for _ in batch.results]})
            if answer.status_code == 200:
                return Response(answer.content, media_type="application/json")
            failure = {"status": answer.status_code, "detail": _detail(answer)}
            return json_response({"results": [dict(failure) for _ in batch.results]})

        async def share(handle: WorkerHandle, indexes: list[int], items: list[Any]) -> None:
            try:
                content = json.dumps({key: [_jsonable(item) for item in items]}).encode()
                answer = await self.call(handle, "POST", path(handle), content, what, len(items))
                if answer.status_code == 200:
                    for index, result in zip(indexes, answer.json()["results"]):
                        batch.results[index] = result
                    return
                failure = {"status": answer.status_code, "detail": _detail(answer)}
            except HTTPProblem as exc:
                failure = _failure(exc)
            for index in indexes:
                batch.results[index] = dict(failure)

        await asyncio.gather(*(share(*shared) for shared in batch.shares.values()))
        return json_response({"results": batch.results})

    async def state(self, session_id: str) -> Response:
        return await self.session_state(session_id, "GET", "reading the session")

    async def delete(self, session_id: str) -> Response:
        """Forget the session; the answer is its final state, as `GET` gives it."""
        return await self.session_state(session_id, "DELETE", "deleting the session")

    async def session_state(self, session_id: str, method: str, what: str) -> Response:
        handle, local_id = self.locate(session_id)
        answer = await self.call(handle, method, f"/v1/sessions/{local_id}", None, what)
        if answer.status_code != 200:
            return _passed(answer)
        return json_response({"session_id": session_id, **answer.json()})

    def pick(self, env: str) -> WorkerHandle:
        """The worker to start a session of `env` on; 422 for a single-turn environment."""
        info = self.router.catalogue.get(env)
        if info is not None and info.kind != "multi":
            raise HTTPProblem(422, f"Expected a multi-turn environment, got {env!r}, which is single-turn: score its "
                              f"completions with POST /score/{env}")
        return self.router.pick(env)

    def locate(self, session_id: str) -> tuple[WorkerHandle, str]:
        """The worker holding the session and its id there; 404 for an id no worker here handed out, 503 while
        that worker is out of rotation (once it is back, it answers 410 itself if it restarted meanwhile)."""
        match = _PUBLIC_ID.fullmatch(session_id)
        handle = None
        if match:
            handle = next((h for h in self.router.handles() if worker_key(h) == match[1]), None)
        if match is None or handle is None:
            raise HTTPProblem(404, "Unknown session: no worker of this gateway handed out this id")
        if handle.state != "ready":
            raise HTTPProblem(503, f"Worker {handle.name}, which holds this session, is out of rotation (last "
                              f"failure: {handle.last_error}); if it restarted, the session is gone and answers 410 "
                              "once the worker is back", headers={"Retry-After": "1"})
        return handle, match[2]

    async def call(self, handle: WorkerHandle, method: str, path: str, body: bytes | None,
                   what: str, steps: int = 1) -> WorkerResponse:
        """One request to the session's worker, refused (429) past the gateway's queue bound. The step deadline is
        enforced in the worker; this timeout is a backstop for a worker that stops answering, allowing for the steps
        queued ahead in its scoring processes."""
        if handle.inflight_items + steps > self.settings.max_queued_items:
            raise HTTPProblem(429, f"Worker {handle.name} has {handle.inflight_items} items queued and the limit is "
                              f"{self.settings.max_queued_items}; try again later", headers={"Retry-After": "1"})
        deadline_s = max((env.max_timeout_s for env in handle.envs), default=60.0)
        handle.inflight_items += steps
        try:
            rounds = math.ceil(handle.inflight_items / max(handle.processes, 1))
            return await handle.client.request(method, path, body, timeout=deadline_s * rounds
                                               + self.settings.worker_slack_s)
        except WorkerTimedOut as exc:
            raise HTTPProblem(504, f"Worker {handle.name} did not answer {what} in time; if it was a step, send it "
                              "again with the same request_id: it is played at most once") from exc
        except WorkerUnavailable as exc:
            raise HTTPProblem(503, f"Worker {handle.name} failed during {what} ({type(exc).__name__}: {exc}); send "
                              "it again (a step with the same request_id is played at most once); if the worker "
                              "restarted, its sessions are gone and answer 410", headers={"Retry-After": "1"}) from exc
        finally:
            handle.inflight_items -= steps


class _Batch:
    """A batch request's results in request order, and each worker's share of its items."""

    def __init__(self, size: int) -> None:
        self.results: list[dict[str, Any]] = [{} for _ in range(size)]
        self.shares: dict[str, tuple[WorkerHandle, list[int], list[Any]]] = {}
        self.failed = False
        """Whether an item failed here, before reaching a worker."""

    def add(self, handle: WorkerHandle, index: int, item: Any) -> None:
        _, indexes, items = self.shares.setdefault(handle.name, (handle, [], []))
        indexes.append(index)
        items.append(item)

    def fail(self, index: int, exc: HTTPProblem) -> None:
        self.results[index] = _failure(exc)
        self.failed = True


def _jsonable(item: Any) -> Any:
    return item.model_dump(mode="json") if isinstance(item, BaseModel) else item


def _failure(exc: HTTPProblem) -> dict[str, Any]:
    return {"status": exc.status, "detail": exc.message}


def _detail(answer: WorkerResponse) -> str:
    """The `detail` of a worker's error answer (its body, when that is not the usual JSON)."""
    try:
        return str(answer.json().get("detail", ""))
    except (ValueError, AttributeError):
        return answer.content[:500].decode("utf-8", "replace")


def _passed(answer: WorkerResponse) -> Response:
    """The worker's answer as it is (status, JSON body, Retry-After)."""
    headers = {name: answer.headers[name] for name in PASSED_HEADERS if name in answer.headers}
    return Response(answer.content, status_code=answer.status_code, media_type="application/json", headers=headers)

