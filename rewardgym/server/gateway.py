"""The gateway: the public HTTP API. It routes each request to the worker hosting its environment.

The gateway never scores anything itself. It checks requests (size, shape, item cap), admits them against a
bounded per-environment queue (429 when full), forwards them to a ready worker, and turns any failure of that
worker into `error` results, so a client always gets one result per item (docs/architecture.md, invariant 1).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Sequence

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, TypeAdapter

from rewardgym.heap import freeze_startup_heap
from rewardgym.http import HTTPProblem, install_error_handlers, json_response, parse_json, read_body
from rewardgym.server.metrics import GatewayMetrics
from rewardgym.protocol import (
    STATUS_COUNTS_HEADER,
    DeletesRequest,
    DeletesResponse,
    RequestShapeError,
    ScoreRequest,
    ScoreResult,
    SessionRequest,
    StartsRequest,
    StartsResponse,
    Status,
    StepRequest,
    StepsRequest,
    StepsResponse,
    TasksRequest,
    count_items,
    decode_status_counts,
    failure_body,
    item_deadline_s,
    parse_score_request,
)
from rewardgym.server.admin import install_admin_routes
from rewardgym.server.openapi_errors import document_errors
from rewardgym.server.openrlhf import OpenRLHFRoute
from rewardgym.server.dashboard import PAGE as DASHBOARD_PAGE
from rewardgym.server.router import Router
from rewardgym.server.stats import STATS_RESPONSES, GatewayStats
from rewardgym.server.sessions import SessionRoutes
from rewardgym.server.settings import GatewaySettings
from rewardgym.server.runtimes.base import ImageRuntime, Runtime, WorkerHandle
from rewardgym.server.worker_client import WorkerResponse, WorkerTimedOut, WorkerUnavailable

log = logging.getLogger("rewardgym.server.gateway")


class Gateway:
    """The public API's behaviour, one method per route; `create_app` composes them into a FastAPI app.

    It holds the routing table, the metrics and the settings; workers come from the runtimes."""

    def __init__(self, runtimes: Sequence[Runtime], settings: GatewaySettings) -> None:
        self.runtimes = list(runtimes)
        self.settings = settings
        self.router = Router(self.runtimes)
        self.metrics = GatewayMetrics()
        self.stats = GatewayStats()
        for runtime in self.runtimes:
            runtime.on_change = self.router.rebuild

    @asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        started: list[Runtime] = []
        try:
            for runtime in self.runtimes:
                log.info("%s", runtime.describe())
                started.append(runtime)  # a runtime that fails half-way still stops what it started
                await runtime.start()
            freeze_startup_heap()
            yield
        finally:
            for runtime in reversed(started):
                await runtime.stop()

    # ---- ops ---------------------------------------------------------------------------------------------------

    async def healthz(self) -> Response:
        return json_response({"status": "ok"})

    async def readyz(self) -> Response:
        """Ready when every worker the runtimes were asked for serves; `missing` says what does not yet."""
        workers = {h.name: h.state for h in self.router.handles()}
        missing = self.router.missing() + await _failing_health_checks(self.router.handles())
        ready = bool(workers) and not missing
        isolation = {name: info.isolation for name, info in sorted(self.router.catalogue.items()) if info.isolation}
        return json_response({"ready": ready, "workers": workers, "missing": missing, "isolation": isolation},
                             200 if ready else 503)

    async def live_stats(self) -> Response:
        """Items/s, status mix and latency per environment over the last minutes; workers; recent failures."""
        catalogue = {name: {"family": info.family, "version": info.version, "status": self.router.status(name),
                            "replicas": len(self.router.routes.get(name, []))}
                     for name, info in sorted(self.router.catalogue.items())}
        workers = [{"name": h.name, "family": h.family, "state": h.state, "processes": h.processes,
                    "inflight_items": h.inflight_items, "queued_items": max(0, h.inflight_items - h.processes),
                    "restarts": h.restarts, "last_error": (h.last_error or "")[:300]}
                   for h in self.router.handles()]
        return json_response({**self.stats.snapshot(), "catalogue": catalogue, "workers": workers})

    async def dashboard(self) -> HTMLResponse:
        return HTMLResponse(DASHBOARD_PAGE)

    async def home(self) -> HTMLResponse:
        return HTMLResponse('<!doctype html><meta charset="utf-8"><title>rewardgym</title><h1>rewardgym</h1>'
                            '<ul><li><a href="/dashboard">dashboard</a></li><li><a href="/docs">API docs</a></li>'
                            '<li><a href="/v1/envs">environments</a></li></ul>')

    async def metrics_text(self) -> Response:
        self.metrics.observe_workers(self.router.handles())
        return Response(self.metrics.render(), media_type=self.metrics.content_type)

    # ---- catalogue ---------------------------------------------------------------------------------------------

    async def list_envs(self) -> Response:
        return json_response({"envs": [
            {**info.model_dump(mode="json"), "status": self.router.status(name)}
            for name, info in sorted(self.router.catalogue.items())
        ]})

    async def get_env(self, env: str) -> Response:
        if env not in self.router.catalogue:
            raise HTTPProblem(404, f"Unknown environment {env!r}", known_envs=sorted(self.router.catalogue))
        return json_response({**self.router.catalogue[env].model_dump(mode="json"),
                              "status": self.router.status(env)})

    async def tasks(self, env: str, request: Request) -> Response:
        handle = self.router.pick(env)
        body = await read_body(request, self.settings.max_body_bytes)
        try:
            answer = await handle.client.post(f"/v1/envs/{env}/tasks", body, timeout=300.0)
        except WorkerUnavailable as exc:
            raise HTTPProblem(503, f"worker {handle.name} failed: {type(exc).__name__}",
                              headers={"Retry-After": "2"}) from exc
        return Response(answer.content, status_code=answer.status_code, media_type="application/json")

    # ---- scoring -----------------------------------------------------------------------------------------------

    async def score(self, env: str, request: Request) -> Response:
        handle = self.router.pick(env)
        body = await read_body(request, self.settings.max_body_bytes)
        try:
            score_request = parse_score_request(parse_json(body))
        except RequestShapeError as exc:
            raise HTTPProblem(422, str(exc)) from exc
        items = count_items(score_request)
        self.admit(env, items)
        started = time.perf_counter()
        try:
            return await self.forward(handle, env, body, score_request, items)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.request_seconds.labels(env).observe(elapsed)
            self.stats.record_latency(env, elapsed)

    def admit(self, env: str, items: int) -> None:
        """Refuse requests over the item cap (413) or past the environment's queue bound (429, Retry-After)."""
        if items > self.settings.max_items_per_request:
            raise HTTPProblem(413, f"Request has {items} items; the limit is {self.settings.max_items_per_request}."
                              " Split it into several requests.")
        admitted = sum(h.inflight_items for h in self.router.routes[env])
        if admitted + items > self.settings.max_queued_items:
            capacity = sum(h.processes for h in self.router.routes[env])
            retry = max(1, math.ceil(admitted / max(capacity, 1) * 0.01))
            raise HTTPProblem(429, f"Environment {env!r} has {admitted} items queued; try again later",
                              headers={"Retry-After": str(retry)})

    async def forward(self, handle: WorkerHandle, env: str, body: bytes, score_request: ScoreRequest,
                      items: int) -> Response:
        """Send the request to `handle`; if that worker fails (not a timeout), once more to another worker of the
        family: scoring is pure, so re-running its items is safe. Only then do the items become `error`."""
        info = self.router.catalogue[env]
        deadline_s = item_deadline_s(score_request.timeout_s, info)
        for attempt in (1, 2):
            try:
                answer = await self.send(handle, env, body, deadline_s, items)
                break
            except WorkerUnavailable as exc:
                message = f"worker {handle.name} failed during the request: {type(exc).__name__}: {exc}".strip()
                log.warning("%s", message)
                retry = None if isinstance(exc, WorkerTimedOut) or attempt == 2 else self.other_worker(env, handle)
                if retry is None:
                    failed = failure_body(score_request, info, Status.ERROR, message)
                    self.count(env, {Status.ERROR: items}, failed)
                    return json_response(failed)
                handle = retry
        if answer.status_code != 200:
            return Response(answer.content, status_code=answer.status_code, media_type="application/json",
                            headers={k: v for k, v in answer.headers.items() if k.lower() == "retry-after"})
        self.count(env, decode_status_counts(answer.headers.get(STATUS_COUNTS_HEADER)), answer.content)
        return Response(answer.content, media_type="application/json")

    def count(self, env: str, counts: dict[Status, int], body: dict[str, Any] | bytes) -> None:
        """Metrics and live stats of one answered request; the body is read only when some items failed."""
        self.metrics.count_statuses(env, counts)
        self.stats.record(env, counts)
        if counts.get(Status.ERROR) or counts.get(Status.TIMEOUT):
            self.stats.record_failures(env, body)

    async def send(self, handle: WorkerHandle, env: str, body: bytes, deadline_s: float,
                   items: int) -> WorkerResponse:
        self.metrics.worker_items.labels(handle.name).inc(items)
        handle.inflight_items += items
        try:
            rounds = math.ceil(handle.inflight_items / max(handle.processes, 1))
            budget = deadline_s * rounds + self.settings.worker_slack_s
            return await handle.client.post(f"/score/{env}", body, timeout=budget)
        finally:
            handle.inflight_items -= items

    def other_worker(self, env: str, failed: WorkerHandle) -> WorkerHandle | None:
        try:
            return self.router.pick(env, exclude=failed)
        except HTTPProblem:
            return None


def create_app(runtimes: Runtime | Sequence[Runtime], settings: GatewaySettings | None = None) -> FastAPI:
    """The gateway over the workers of `runtimes` (several may be combined, e.g. compose sockets + Docker)."""
    gateway = Gateway([runtimes] if isinstance(runtimes, Runtime) else runtimes, settings or GatewaySettings())
    app = FastAPI(title="rewardgym", version="0.1.0", lifespan=gateway.lifespan,
                  description="One HTTP scoring API over many verifiable-reward environments.")
    install_error_handlers(app)
    app.state.gateway = gateway
    app.state.router = gateway.router
    sessions = SessionRoutes(gateway.router, gateway.settings)
    routes: list[tuple[str, str, Any, dict[str, Any]]] = [
        ("GET", "/healthz", gateway.healthz, {"tags": ["ops"]}),
        ("GET", "/readyz", gateway.readyz, {"tags": ["ops"]}),
        ("GET", "/metrics", gateway.metrics_text, {"tags": ["ops"]}),
        ("GET", "/v1/stats", gateway.live_stats, {"tags": ["ops"], "responses": STATS_RESPONSES}),
        ("GET", "/dashboard", gateway.dashboard, {"tags": ["ops"], "response_class": HTMLResponse}),
        ("GET", "/", gateway.home, {"include_in_schema": False, "response_class": HTMLResponse}),
        ("GET", "/v1/envs", gateway.list_envs, {"tags": ["catalogue"]}),
        ("GET", "/v1/envs/{env}", gateway.get_env, {"tags": ["catalogue"]}),
        ("POST", "/v1/envs/{env}/tasks", gateway.tasks,
         {"tags": ["catalogue"], "openapi_extra": _body_schema("TasksRequest")}),
        ("POST", "/score/{env}", gateway.score, {"tags": ["scoring"], "openapi_extra": _body_schema("ScoreRequest")}),
        ("POST", "/v1/envs/{env}/sessions", sessions.create,
         {"tags": ["sessions"], "openapi_extra": _body_schema("SessionRequest")}),
        ("POST", "/v1/sessions/{session_id}/step", sessions.step,
         {"tags": ["sessions"], "openapi_extra": _body_schema("StepRequest")}),
        ("POST", "/v1/sessions/starts", sessions.starts,
         {"tags": ["sessions"], "openapi_extra": _body_schema("StartsRequest"), **_answer(StartsResponse)}),
        ("POST", "/v1/sessions/steps", sessions.steps,
         {"tags": ["sessions"], "openapi_extra": _body_schema("StepsRequest"), **_answer(StepsResponse)}),
        ("POST", "/v1/sessions/deletes", sessions.deletes,
         {"tags": ["sessions"], "openapi_extra": _body_schema("DeletesRequest"), **_answer(DeletesResponse)}),
        ("GET", "/v1/sessions/{session_id}", sessions.state, {"tags": ["sessions"]}),
        ("DELETE", "/v1/sessions/{session_id}", sessions.delete, {"tags": ["sessions"]}),
        ("POST", "/v1/openrlhf/{env}", OpenRLHFRoute(gateway).score, {"tags": ["adapters"]}),
    ]
    for method, path, endpoint, options in routes:
        app.add_api_route(path, endpoint, methods=[method], **options)
    image_runtimes = [runtime for runtime in gateway.runtimes if isinstance(runtime, ImageRuntime)]
    if image_runtimes:
        install_admin_routes(app, gateway.router, image_runtimes[0], gateway.settings.admin_token)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


_SCHEMAS: dict[str, Any] = {
    "ScoreRequest": TypeAdapter(ScoreRequest).json_schema(ref_template="#/components/schemas/{model}"),
    "TasksRequest": TasksRequest.model_json_schema(ref_template="#/components/schemas/{model}"),
    "ScoreResult": ScoreResult.model_json_schema(ref_template="#/components/schemas/{model}"),
    "SessionRequest": SessionRequest.model_json_schema(ref_template="#/components/schemas/{model}"),
    "StepRequest": StepRequest.model_json_schema(ref_template="#/components/schemas/{model}"),
    "StepsRequest": StepsRequest.model_json_schema(ref_template="#/components/schemas/{model}"),
    "StartsRequest": StartsRequest.model_json_schema(ref_template="#/components/schemas/{model}"),
    "DeletesRequest": DeletesRequest.model_json_schema(ref_template="#/components/schemas/{model}"),
}


async def _failing_health_checks(handles: Sequence[WorkerHandle]) -> list[str]:
    """Ready workers whose /healthz does not answer 200 now (e.g. none of their scoring processes can serve)."""

    async def check(handle: WorkerHandle) -> str | None:
        try:
            answer = await handle.client.get("/healthz", timeout=2.0)
        except WorkerUnavailable as exc:
            return f"{handle.name}: /healthz failed ({exc})"
        return None if answer.status_code == 200 else f"{handle.name}: /healthz answered {answer.status_code}"

    found = await asyncio.gather(*(check(handle) for handle in handles if handle.state == "ready"))
    return [failure for failure in found if failure]


def _answer(model: type[BaseModel]) -> dict[str, Any]:
    """The documented 200 answer of a route that builds its response by hand."""
    return {"responses": {200: {"model": model, "description": (model.__doc__ or "").strip()}}}


def _body_schema(name: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus our request models (bodies are parsed by hand, for clearer 4xx messages)."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, description=app.description,
                               routes=app.routes)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in _SCHEMAS.items():
            schema = dict(schema)
            schemas.update(schema.pop("$defs", {}))
            schemas[name] = schema
        app.openapi_schema = document_errors(document)
    return app.openapi_schema
