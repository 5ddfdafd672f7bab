"""The worker: hosts one family behind the worker protocol, over a Unix socket (or TCP for remote workers).

The worker protocol is the public API's environment routes (`/v1/envs`, `/score/{env}`, `/v1/envs/{env}/tasks`)
plus `/healthz`, so the gateway only routes and a worker can be tried with curl. Every runtime (local process,
Docker container, remote node) runs this same app.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from contextlib import asynccontextmanager
from typing import AsyncIterator

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import ValidationError

from rewardgym.heap import freeze_startup_heap
from rewardgym.serving import ConnectionLimits, server_config
from rewardgym.auth import TokenFileError, is_loopback, read_token_file, require_token
from rewardgym.logs import configure_logging
from rewardgym.http import HTTPProblem, install_error_handlers, json_response, read_json, with_fast_post_route
from rewardgym.worker.pool import ItemPool, PoolSettings
from rewardgym.protocol import (
    SANDBOX_ISOLATION_ENV,
    STATUS_COUNTS_HEADER,
    UNSAFE_SANDBOX_ENV,
    RequestShapeError,
    SingleRequest,
    TasksRequest,
    count_items,
    describe_validation_error,
    encode_status_counts,
    parse_score_request,
    response_body,
)
from rewardgym.registry import Family, load_family
from rewardgym.worker.resources import family_resources
from rewardgym.worker.scoring import FamilyScorer, GenerationFailed
from rewardgym.worker.sessions import install_session_routes

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_ITEMS = 100_000


@asynccontextmanager
async def running_pool(family: Family, pool: ItemPool, work_dir: str | None = None) -> AsyncIterator[ItemPool]:
    """`pool` started after its family's resources (the code family's sandbox slots, ...), and everything stopped
    at exit. The worker and the local CLI both host families so.

    `work_dir`: where the family's resources keep their files (default: a private temporary directory)."""
    directory = work_dir or tempfile.mkdtemp(prefix=f"rewardgym-{family.name}-")
    async with family_resources(family, pool.size, directory) as resources:
        pool.resources = resources
        await pool.start()  # after the resources: scoring processes inherit what they hand over
        try:
            yield pool
        finally:
            await pool.close()


def create_worker_app(family_spec: str, settings: PoolSettings | None = None,
                      max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, work_dir: str | None = None) -> FastAPI:
    """`work_dir`: where the family's resources keep their files (see `running_pool`)."""
    family = load_family(family_spec)
    pool = ItemPool(family_spec, settings)
    scorer = FamilyScorer(family, pool)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running_pool(family, pool, work_dir):
            isolation = os.environ.get(SANDBOX_ISOLATION_ENV)  # set by a family's sandbox provisioning
            if isolation:
                scorer.catalogue = {name: info.model_copy(update={"isolation": isolation})
                                    for name, info in scorer.catalogue.items()}
            freeze_startup_heap()
            yield

    app = FastAPI(title=f"rewardgym worker ({family.name})", lifespan=lifespan, docs_url=None, redoc_url=None)
    install_error_handlers(app)
    app.state.scorer = scorer
    sessions = install_session_routes(app, scorer, pool, max_body_bytes)

    def environment(env: str) -> str:
        if env not in scorer.envs:
            raise HTTPProblem(404, f"Unknown environment {env!r} in family {family.name!r}",
                              known_envs=sorted(scorer.envs))
        return env

    @app.get("/healthz")
    async def healthz() -> Response:
        """200 while at least one scoring process can serve; 503 when none can (the gateway is then not ready)."""
        health = pool.health()
        return json_response({
            "status": health.status, "family": family.name, "processes": pool.size, "serving": health.serving,
            "failing": health.failing, "pids": pool.pids(), "waiting": pool.waiting, "running": pool.running,
            "replaced": pool.replaced, "sessions": sessions.stats(),
        }, 200 if health.serving else 503)

    @app.get("/v1/envs")
    async def list_envs() -> Response:
        return json_response({"envs": [info.model_dump(mode="json") for info in scorer.catalogue.values()]})

    @app.get("/v1/envs/{env}")
    async def get_env(env: str) -> Response:
        return json_response(scorer.catalogue[environment(env)].model_dump(mode="json"))

    async def score_body(env: str, request: Request) -> Response:
        environment(env)
        try:
            score_request = parse_score_request(await read_json(request, max_body_bytes))
        except RequestShapeError as exc:
            raise HTTPProblem(422, str(exc)) from exc
        if count_items(score_request) > DEFAULT_MAX_ITEMS:
            raise HTTPProblem(413, f"Expected at most {DEFAULT_MAX_ITEMS} items per request")
        results = await scorer.score(env, score_request)
        if isinstance(score_request, SingleRequest) and results[0]["status"] == "invalid_task":
            raise HTTPProblem(422, f"Invalid task for {env}: {results[0]['details'].get('message', '')}")
        return json_response(response_body(score_request, results),
                             headers={STATUS_COUNTS_HEADER: encode_status_counts(results)})

    @app.post("/score/{env}")
    async def score(env: str, request: Request) -> Response:
        return await score_body(env, request)

    app.state.score_fast_path = score_body

    @app.post("/v1/envs/{env}/tasks")
    async def tasks(env: str, request: Request) -> Response:
        environment(env)
        if not scorer.envs[env].generates_tasks():
            raise HTTPProblem(422, f"Environment {env!r} does not generate tasks")
        try:
            tasks_request = TasksRequest.model_validate(await read_json(request, max_body_bytes))
        except ValidationError as exc:
            raise HTTPProblem(422, describe_validation_error(exc, "tasks request")) from exc
        try:
            return json_response(await scorer.generate(env, tasks_request))
        except GenerationFailed as exc:
            raise HTTPProblem(422 if exc.invalid else 500, str(exc)) from exc

    return app


def serve_worker(family_spec: str, socket_path: str | None, host: str, port: int | None,
                 settings: PoolSettings, token: str | None = None) -> None:
    """Run a worker until it is stopped. A Unix socket is the default transport; TCP is for remote workers, and
    off loopback it needs `token` (every route but /healthz then asks for it; see rewardgym/auth.py)."""
    if socket_path is None and not is_loopback(host) and not token:
        raise SystemExit(f"rewardgym worker: --host {host} is reachable from other machines; expected --token-file "
                         "(mode 0600, the token the gateway sends with --worker-token-file)")
    work_dir = os.path.join(os.path.dirname(os.path.abspath(socket_path)), "sandbox") if socket_path else None
    app = create_worker_app(family_spec, settings, work_dir=work_dir)
    fast = with_fast_post_route(app, "/score/", app.state.score_fast_path)
    served = require_token(fast, token) if token else fast
    if socket_path:
        os.makedirs(os.path.dirname(os.path.abspath(socket_path)), exist_ok=True)
        if os.path.exists(socket_path):
            os.unlink(socket_path)
        config = server_config(served, ConnectionLimits(), uds=socket_path, log_level="warning", access_log=False)
    else:
        config = server_config(served, ConnectionLimits(), host=host, port=port or 8100, log_level="warning",
                               access_log=False)
    try:
        uvicorn.Server(config).run()  # on uvloop when installed: less event-loop overhead per item
    finally:
        if socket_path and os.path.exists(socket_path):
            os.unlink(socket_path)


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", required=True, help="installed family name, or module:attribute")
    parser.add_argument("--socket", default=os.environ.get("REWARDGYM_SOCKET"),
                        help="Unix socket path to serve on (default: $REWARDGYM_SOCKET)")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host, when --port is given instead of --socket")
    parser.add_argument("--port", type=int, help="TCP port (remote workers)")
    parser.add_argument("--token-file", help="shared token (mode 0600) the gateway must send; required when --host "
                                             "is not loopback")
    parser.add_argument("--processes", type=int, default=int(os.environ.get("REWARDGYM_PROCESSES", 0)) or None,
                        help="scoring processes (default: $REWARDGYM_PROCESSES, else one per core)")
    parser.add_argument("--log-format", choices=["text", "json"], default="text", help="json: JSON lines")
    parser.add_argument("--max-items-per-process", type=int, default=PoolSettings.max_items_per_process)
    parser.add_argument("--max-rss-mb", type=int, default=PoolSettings.max_rss_mb)
    parser.add_argument("--unsafe-sandbox", action="store_true",
                        help="where bwrap cannot isolate sandboxes (and no Docker), run model-written code WITHOUT "
                             "isolation instead of refusing it (programs can then read this host's files)")


def run_worker_from_args(args: argparse.Namespace) -> None:
    configure_logging(args.log_format)
    if not args.socket and not args.port:
        raise SystemExit("rewardgym worker: expected --socket PATH or --port N")
    if args.unsafe_sandbox:
        os.environ[UNSAFE_SANDBOX_ENV] = "1"
        logging.getLogger("rewardgym").warning("worker: --unsafe-sandbox: model-written code may run without "
                                               "isolation where bwrap cannot isolate it")
    settings = PoolSettings(processes=args.processes or os.cpu_count() or 1, max_items_per_process=args.max_items_per_process,
                            max_rss_mb=args.max_rss_mb)
    try:
        token = read_token_file(args.token_file) if args.token_file else None
    except TokenFileError as exc:
        raise SystemExit(f"rewardgym worker: {exc}") from exc
    serve_worker(args.family, args.socket, args.host, args.port, settings, token)


def main(argv: list[str] | None = None) -> None:
    cli = argparse.ArgumentParser(prog="python -m rewardgym.worker")
    add_worker_arguments(cli)
    run_worker_from_args(cli.parse_args(argv))

