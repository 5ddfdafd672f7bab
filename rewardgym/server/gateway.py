"""The gateway: the public HTTP API. It routes each request to the worker hosting its environment.

The gateway never scores anything itself. It checks requests (size, shape, item cap), admits them against a
bounded per-environment queue (429 when full), forwards them to a ready worker, and turns any failure of that
worker into `error` results, so a client always gets one result per item (DESIGN.md invariant 1).
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Sequence

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from pydantic import TypeAdapter

from rewardgym.http import HTTPProblem, install_error_handlers, json_response, parse_json, read_body
from rewardgym.server.metrics import GatewayMetrics
from rewardgym.protocol import (
    STATUS_COUNTS_HEADER,
    RequestShapeError,
    ScoreRequest,
    ScoreResult,
    Status,
    TasksRequest,
    count_items,
    decode_status_counts,
    failure_body,
    item_deadline_s,
    parse_score_request,
)
from rewardgym.server.admin import install_admin_routes
from rewardgym.server.router import Router
from rewardgym.server.runtimes.base import Runtime, WorkerHandle
from rewardgym.server.runtimes.docker import DockerRuntime
from rewardgym.server.worker_client import WorkerUnavailable

log = logging.getLogger("rewardgym.server.gateway")


@dataclass
class GatewaySettings:
    max_body_bytes: int = 64 * 1024 * 1024
    """Requests larger than this are refused with 413 before they are read."""
    max_items_per_request: int = 10_000
    max_queued_items: int = 50_000
    """Items admitted per environment (running or waiting); past this, 429 with Retry-After."""
    worker_slack_s: float = 30.0
    """Extra time granted to a worker beyond the items' deadlines before the gateway gives up on it."""
    admin_token: str | None = None
    """Bearer token of the admin routes (`/v1/images`); they exist only when a Docker runtime is given."""


def create_app(runtimes: Runtime | Sequence[Runtime], settings: GatewaySettings | None = None) -> FastAPI:
    """The gateway over the workers of `runtimes` (several may be combined, e.g. compose sockets + Docker)."""
    settings = settings or GatewaySettings()
    runtimes = [runtimes] if isinstance(runtimes, Runtime) else list(runtimes)
    router = Router(runtimes)
    metrics = GatewayMetrics()
    for runtime in runtimes:
        runtime.on_change = router.rebuild

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        started: list[Runtime] = []
        try:
            for runtime in runtimes:
                log.info("%s", runtime.describe())
                started.append(runtime)  # a runtime that fails half-way still stops what it started
                await runtime.start()
            yield
        finally:
            for runtime in reversed(started):
                await runtime.stop()

    app = FastAPI(title="rewardgym", version="0.1.0", lifespan=lifespan,
                  description="One HTTP scoring API over many verifiable-reward environments.")
    install_error_handlers(app)
    app.state.router = router
    docker_runtimes = [r for r in runtimes if isinstance(r, DockerRuntime)]
    if docker_runtimes:
        install_admin_routes(app, router, docker_runtimes[0], settings.admin_token)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> Response:
        workers = {h.name: h.state for h in router.handles()}
        ready = bool(workers) and all(state == "ready" for state in workers.values())
        return json_response({"ready": ready, "workers": workers}, 200 if ready else 503)

    @app.get("/metrics", tags=["ops"])
    async def metrics_route() -> Response:
        metrics.observe_workers(router.handles())
        return Response(metrics.render(), media_type=metrics.content_type)

    @app.get("/v1/envs", tags=["catalogue"])
    async def list_envs() -> Response:
        return json_response({"envs": [
            {**info.model_dump(mode="json"), "status": router.status(name)}
            for name, info in sorted(router.catalogue.items())
        ]})

    @app.get("/v1/envs/{env}", tags=["catalogue"])
    async def get_env(env: str) -> Response:
        if env not in router.catalogue:
            raise HTTPProblem(404, f"Unknown environment {env!r}", known_envs=sorted(router.catalogue))
        return json_response({**router.catalogue[env].model_dump(mode="json"), "status": router.status(env)})

    @app.post("/score/{env}", tags=["scoring"], openapi_extra=_body_schema("ScoreRequest"))
    async def score(env: str, request: Request) -> Response:
        handle = router.pick(env)
        body = await read_body(request, settings.max_body_bytes)
        try:
            score_request = parse_score_request(parse_json(body))
        except RequestShapeError as exc:
            raise HTTPProblem(422, str(exc)) from exc
        items = count_items(score_request)
        if items > settings.max_items_per_request:
            raise HTTPProblem(413, f"Request has {items} items; the limit is {settings.max_items_per_request}."
                              " Split it into several requests.")
        admitted = sum(h.inflight_items for h in router.routes[env])
        if admitted + items > settings.max_queued_items:
            capacity = sum(h.processes for h in router.routes[env])
            retry = max(1, math.ceil(admitted / max(capacity, 1) * 0.01))
            raise HTTPProblem(429, f"Environment {env!r} has {admitted} items queued; try again later",
                              headers={"Retry-After": str(retry)})
        started = time.perf_counter()
        metrics.worker_items.labels(handle.name).inc(items)
        handle.inflight_items += items
        try:
            return await _forward(handle, env, body, score_request, items)
        finally:
            handle.inflight_items -= items
            metrics.request_seconds.labels(env).observe(time.perf_counter() - started)

    async def _forward(handle: WorkerHandle, env: str, body: bytes, score_request: ScoreRequest,
                       items: int) -> Response:
        info = router.catalogue[env]
        rounds = math.ceil((handle.inflight_items) / max(handle.processes, 1))
        budget = item_deadline_s(score_request.timeout_s, info) * rounds + settings.worker_slack_s
        try:
            answer = await handle.client.post(f"/score/{env}", body, timeout=budget)
        except WorkerUnavailable as exc:
            message = f"worker {handle.name} failed during the request: {type(exc).__name__}: {exc}".strip()
            log.warning("%s", message)
            metrics.count_statuses(env, {Status.ERROR: items})
            return json_response(failure_body(score_request, info, Status.ERROR, message))
        if answer.status_code != 200:
            return Response(answer.content, status_code=answer.status_code, media_type="application/json",
                            headers={k: v for k, v in answer.headers.items() if k.lower() == "retry-after"})
        metrics.count_statuses(env, decode_status_counts(answer.headers.get(STATUS_COUNTS_HEADER)))
        return Response(answer.content, media_type="application/json")

    @app.post("/v1/envs/{env}/tasks", tags=["catalogue"], openapi_extra=_body_schema("TasksRequest"))
    async def tasks(env: str, request: Request) -> Response:
        handle = router.pick(env)
        body = await read_body(request, settings.max_body_bytes)
        try:
            answer = await handle.client.post(f"/v1/envs/{env}/tasks", body, timeout=300.0)
        except WorkerUnavailable as exc:
            raise HTTPProblem(503, f"worker {handle.name} failed: {type(exc).__name__}",
                              headers={"Retry-After": "2"}) from exc
        return Response(answer.content, status_code=answer.status_code, media_type="application/json")

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


_SCHEMAS: dict[str, Any] = {
    "ScoreRequest": TypeAdapter(ScoreRequest).json_schema(ref_template="#/components/schemas/{model}"),
    "TasksRequest": TasksRequest.model_json_schema(ref_template="#/components/schemas/{model}"),
    "ScoreResult": ScoreResult.model_json_schema(ref_template="#/components/schemas/{model}"),
}


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
        app.openapi_schema = document
    return app.openapi_schema
