"""The `rewardgym` command: serve, worker, envs, score, tasks.

`envs`, `score` and `tasks` work against the installed families directly (scoring still runs in a separate
process under the deadline), or against a running server with `--url`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from typing import Any, Sequence

from rewardgym.protocol import SingleRequest, TasksRequest
from rewardgym.server.settings import GatewaySettings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rewardgym", description="A reward server for verifiable rewards.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="start the gateway and its workers")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: loopback only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--runtime", choices=["local", "docker", "attached"], default="local",
                       help="local: a worker process per installed family (default); docker: worker containers "
                            "of the images in --config/--image, and image registration; attached: only the "
                            "workers of --socket-dir/--worker-url")
    serve.add_argument("--families", help="local runtime: comma-separated families (default: every installed one)")
    serve.add_argument("--config", help="docker runtime: a TOML file listing images (see deploy/rewardgym.toml)")
    serve.add_argument("--image", action="append", default=[], help="docker runtime: an image to run (repeatable)")
    serve.add_argument("--owner", default="default", help="docker runtime: label of our containers, so a restarted "
                                                          "gateway removes what its predecessor left")
    serve.add_argument("--docker-socket-volume", help="docker runtime inside compose: the named volume that is "
                                                      "mounted at --socket-dir here, to mount in new containers")
    serve.add_argument("--socket-dir", help="also serve workers whose Unix sockets appear in this directory")
    serve.add_argument("--worker-url", action="append", default=[], help="also serve a remote worker (repeatable)")
    serve.add_argument("--workers-file", help="also serve the workers listed in this file (one URL per line), "
                                              "re-read when it changes: workers join and leave while serving")
    serve.add_argument("--worker-token-file", help="the workers' shared token (mode 0600), sent to every TCP worker")
    serve.add_argument("--token-file", help="clients' token (mode 0600): every route but /healthz then needs "
                                            "Authorization: Bearer; required when --host is not loopback")
    serve.add_argument("--insecure", action="store_true",
                       help="bind a non-loopback --host without --token-file (anyone who reaches it can score)")
    serve.add_argument("--log-format", choices=["text", "json"], default="text",
                       help="json: one JSON object per log line; every line about a request has its X-Request-ID")
    serve.add_argument("--unsafe-sandbox", action="store_true",
                       help="where bwrap cannot isolate sandboxes (and no Docker), run model-written code WITHOUT "
                            "isolation instead of refusing it; passed on to the local workers")
    serve.add_argument("--expect-families", help="attached workers: comma-separated families that must all be "
                                                 "attached before /readyz says ready (compose passes its services)")
    serve.add_argument("--admin-token", default=os.environ.get("REWARDGYM_ADMIN_TOKEN"),
                       help="bearer token of POST/DELETE /v1/images (default: $REWARDGYM_ADMIN_TOKEN); required "
                            "with the docker runtime")
    serve.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="scoring processes per family")
    serve.add_argument("--max-body-bytes", type=int, default=GatewaySettings.max_body_bytes)
    serve.add_argument("--max-items-per-request", type=int, default=GatewaySettings.max_items_per_request)
    serve.add_argument("--max-queued-items", type=int, default=GatewaySettings.max_queued_items,
                       help="per environment; past it, 429")
    serve.add_argument("--header-timeout", type=float,
                       help="seconds a connection may take to send a request's headers (default 10)")
    serve.add_argument("--max-connections", type=int,
                       help="open client connections; past it the longest-idle one is closed (default 16384, "
                            "or what the open-file limit allows)")

    worker = commands.add_parser("worker", help="host one family (started by a runtime)")
    try:
        from rewardgym.worker.app import add_worker_arguments

        add_worker_arguments(worker)
    except ModuleNotFoundError as exc:  # the SDK alone: `worker` says what to install when it is used
        if exc.name not in SERVER_MODULES:
            raise

    envs = commands.add_parser("envs", help="list environments")
    envs.add_argument("--url", help="a running server (default: the installed families)")

    score = commands.add_parser("score", help="score one completion")
    score.add_argument("env")
    score.add_argument("--task", required=True,
                       help="the task payload: @FILE to read it from a file (best: tasks hold expected answers, "
                            "and a command line is readable by every process on the host), - for stdin, or JSON")
    score.add_argument("--completion", required=True, help="the completion text, or - to read it from stdin")
    score.add_argument("--timeout", type=float, help="deadline in seconds (default: the environment's)")
    score.add_argument("--url", help="a running server (default: score locally)")
    score.add_argument("--family", help="score locally with this family (installed name or module:attribute; "
                                        "default: the installed family hosting ENV)")

    tasks = commands.add_parser("tasks", help="generate tasks")
    tasks.add_argument("env")
    tasks.add_argument("-n", type=int, default=1)
    tasks.add_argument("--seed", type=int, default=0)
    tasks.add_argument("--options", default="{}", help="generator options as JSON, e.g. '{\"difficulty\": \"hard\"}'")
    tasks.add_argument("--url", help="a running server (default: generate locally)")
    tasks.add_argument("--family", help="generate locally with this family (default: the installed family hosting ENV)")

    slurm = commands.add_parser("slurm", help="run the gateway and workers of a Slurm job (deploy/slurm/)")
    slurm.add_argument("action", choices=["launch"], help="launch: inside the job (the sbatch script calls it)")
    slurm.add_argument("--config", required=True, help="the TOML of families, replicas, processes, CPUs per node "
                                                       "(deploy/slurm/rewardgym-slurm.toml)")
    slurm.add_argument("--job-dir", required=True, help="where tokens, logs, workers.txt and gateway.json go "
                                                        "(on the shared file system: the trainer reads gateway.json)")

    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ModuleNotFoundError as exc:
        if exc.name not in SERVER_MODULES:
            raise
        print(f"rewardgym {args.command}: expected the server dependencies ({exc.name} is missing); "
              "install them with: pip install 'rewardgym[server]'", file=sys.stderr)
        return 2
    except CLIError as exc:
        print(f"rewardgym {args.command}: {exc}", file=sys.stderr)
        return 2


class CLIError(Exception):
    pass


SERVER_MODULES = frozenset({"fastapi", "starlette", "uvicorn", "httpx", "prometheus_client", "rewardgym_sandboxes"})
"""What the `server` extra installs: the SDK alone (pydantic) cannot serve."""


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from rewardgym.auth import require_token
    from rewardgym.logs import configure_logging
    from rewardgym.http import with_fast_post_route
    from rewardgym.server.request_ids import with_request_ids
    from rewardgym.serving import ConnectionLimits, server_config
    from rewardgym.server.admin import AdminTokenMissing
    from rewardgym.server.gateway import create_app

    configure_logging(args.log_format)
    settings = GatewaySettings(max_body_bytes=args.max_body_bytes, max_items_per_request=args.max_items_per_request,
                               max_queued_items=args.max_queued_items, admin_token=args.admin_token)
    client_token = _client_token(args.token_file, args.host, args.insecure, "serve")
    if args.unsafe_sandbox:
        from rewardgym.protocol import UNSAFE_SANDBOX_ENV

        os.environ[UNSAFE_SANDBOX_ENV] = "1"  # the local workers inherit it
        logging.getLogger("rewardgym").warning("serve: --unsafe-sandbox: model-written code may run without "
                                               "isolation where bwrap cannot isolate it")
    try:
        app = create_app(_runtimes(args), settings)
    except AdminTokenMissing as exc:
        raise CLIError(str(exc)) from exc
    app = with_fast_post_route(app, "/score/", app.state.gateway.score)
    if client_token:
        app = require_token(app, client_token)
    app = with_request_ids(app)  # outermost: a refused request has an id too
    defaults = ConnectionLimits()
    limits = ConnectionLimits(header_timeout_s=args.header_timeout or defaults.header_timeout_s,
                              max_connections=args.max_connections or defaults.max_connections)
    uvicorn.Server(server_config(app, limits, host=args.host, port=args.port, log_level="info", access_log=False,
                                 timeout_graceful_shutdown=10, log_config=None)).run()
    return 0


def _runtimes(args: argparse.Namespace) -> list[Any]:
    from rewardgym.server.runtimes.attached import AttachedRuntime

    runtimes: list[Any] = []
    if args.runtime == "local":
        from rewardgym.registry import installed_family_names
        from rewardgym.server.runtimes.local import LocalRuntime

        families = args.families.split(",") if args.families else installed_family_names()
        if not families:
            raise CLIError("no environment family is installed (pip install -e environments/math)")
        runtimes.append(LocalRuntime(families, processes=args.processes))
    elif args.runtime == "docker":
        from rewardgym.server.config import ConfigError, load_config
        from rewardgym.server.runtimes.docker import DockerRuntime, ImageSpec

        try:
            images = load_config(args.config).image_specs() if args.config else []
            images += [ImageSpec(image) for image in args.image]
        except (ConfigError, ValueError) as exc:
            raise CLIError(str(exc)) from exc
        if args.docker_socket_volume and not args.socket_dir:
            raise CLIError("--docker-socket-volume needs --socket-dir (where that volume is mounted here)")
        runtimes.append(DockerRuntime(images, owner=args.owner, socket_root=args.socket_dir,
                                      socket_volume=args.docker_socket_volume,
                                      socket_subdir="registered" if args.socket_dir else ""))
    expected = [family for family in (args.expect_families or "").split(",") if family]
    attached = args.socket_dir or args.worker_url or args.workers_file
    if expected and not attached:
        raise CLIError("--expect-families needs --socket-dir, --worker-url or --workers-file (the workers to expect)")
    if attached:
        worker_token = _read_token(args.worker_token_file) if args.worker_token_file else None
        runtimes.append(AttachedRuntime(urls=args.worker_url, socket_dir=args.socket_dir,
                                        expected_families=expected, workers_file=args.workers_file,
                                        token=worker_token))
    if not runtimes:
        raise CLIError("the attached runtime needs --socket-dir, --worker-url or --workers-file")
    return runtimes


def _read_token(path: str) -> str:
    from rewardgym.auth import TokenFileError, read_token_file

    try:
        return read_token_file(path)
    except TokenFileError as exc:
        raise CLIError(str(exc)) from exc


def _client_token(path: str | None, host: str, insecure: bool, command: str) -> str | None:
    """The token clients must send, or None on loopback (or with --insecure, said loudly)."""
    from rewardgym.auth import is_loopback

    if path:
        return _read_token(path)
    if is_loopback(host):
        return None
    if not insecure:
        raise CLIError(f"--host {host} is reachable from other machines: give --token-file (mode 0600), or "
                       f"--insecure to serve anyone who reaches it")
    logging.getLogger("rewardgym").warning("%s: serving %s with no token (--insecure)", command, host)
    return None


def run_worker(args: argparse.Namespace) -> int:
    from rewardgym.worker.app import run_worker_from_args

    run_worker_from_args(args)
    return 0


def run_envs(args: argparse.Namespace) -> int:
    if args.url:
        envs = _remote(args.url, lambda client: [info.model_dump(mode="json") for info in client.envs()])
    else:
        from rewardgym.registry import installed_family_names, load_family

        envs = []
        for family_name in installed_family_names():
            family = load_family(family_name)
            envs += [env.info(family.name).model_dump() for env in family.instantiate().values()]
    rows = [(e["name"], e["family"], e["version"], "yes" if e["generates_tasks"] else "no",
             e["description"].split(". ")[0][:70]) for e in envs]
    print(_table(("ENV", "FAMILY", "VERSION", "GENERATES", "DESCRIPTION"), rows))
    return 0


def run_score(args: argparse.Namespace) -> int:
    if args.task == "-" and args.completion == "-":
        raise CLIError("expected at most one of --task and --completion to be read from stdin (-)")
    if not args.task.startswith("@") and args.task != "-":
        _restart_without_task_in_argv(args)  # before any scoring process (or sandboxed program) exists
    task_text = _read_task(args.task)
    completion = sys.stdin.read() if args.completion == "-" else args.completion
    try:
        request = SingleRequest(task=json.loads(task_text), completion=completion, timeout_s=args.timeout)
    except ValueError as exc:
        raise CLIError(f"expected --task to be a JSON object: {exc}") from exc
    if args.url:
        result = _remote(args.url, lambda client: client.score(args.env, request.task, request.completion,
                                                               timeout_s=request.timeout_s).model_dump(mode="json"))
    else:
        results = asyncio.run(_locally(args.env, args.family, lambda scorer: scorer.score(args.env, request)))
        result = results[0]
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def run_tasks(args: argparse.Namespace) -> int:
    try:
        request = TasksRequest(n=args.n, seed=args.seed, options=json.loads(args.options))
    except ValueError as exc:
        raise CLIError(f"invalid request: {exc}") from exc
    if args.url:
        result = _remote(args.url, lambda client: {
            "env": args.env, "env_version": client.env(args.env).version, "seed": request.seed,
            "tasks": [task.model_dump(mode="json") for task in client.tasks(args.env, request.n, seed=request.seed,
                                                                             options=request.options)]})
    else:
        result = asyncio.run(_locally(args.env, args.family, lambda scorer: scorer.generate(args.env, request)))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _read_task(source: str) -> str:
    """The task's JSON text from `source`: @FILE, - (stdin), or the JSON itself."""
    if source == "-":
        return sys.stdin.read()
    if not source.startswith("@"):
        return source
    try:
        with open(source[1:], encoding="utf-8") as file:
            return file.read()
    except OSError as exc:
        raise CLIError(f"cannot read the task from {source[1:]}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CLIError(f"expected the task in {source[1:]} to be UTF-8: {exc}") from exc
    finally:
        if source.startswith("@/dev/fd/"):
            os.close(int(source.removeprefix("@/dev/fd/")))  # the copy `_restart_without_task_in_argv` left


def _restart_without_task_in_argv(args: argparse.Namespace) -> None:
    """Execute this command again with the task in an unnamed file instead of on the command line.

    A process's command line is readable by every process on the host (/proc/PID/cmdline); a task holds expected
    answers, and a program scored on this host without containers (locally, or by a server here) would read them
    there (issue 7, finding 9). `exec` replaces the command line; the task follows as an inherited descriptor of a
    file that has no name."""
    import tempfile

    carrier = tempfile.TemporaryFile()
    carrier.write(args.task.encode("utf-8", "surrogateescape"))
    carrier.flush()
    fd = os.dup(carrier.fileno())
    os.lseek(fd, 0, os.SEEK_SET)
    os.set_inheritable(fd, True)
    argv = [sys.executable, "-m", "rewardgym.cli", "score", args.env, "--task", f"@/dev/fd/{fd}",
            "--completion", args.completion]
    argv += ["--timeout", str(args.timeout)] if args.timeout is not None else []
    argv += ["--family", args.family] if args.family else []
    argv += ["--url", args.url] if args.url else []  # a server on this host may run programs as local processes
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


async def _locally(env: str, family_spec: str | None, action: Any) -> Any:
    """Run `action` on a one-process scorer for the family that hosts `env`, with its sandboxes (containers when
    Docker is there) started as `rewardgym serve` starts them."""
    from rewardgym.registry import installed_family_names, load_family
    from rewardgym.worker.app import running_pool
    from rewardgym.worker.pool import ItemPool, PoolSettings
    from rewardgym.worker.scoring import FamilyScorer, GenerationFailed

    for spec in [family_spec] if family_spec else installed_family_names():
        family = load_family(spec)
        if any(env_class.name == env for env_class in family.environments):
            async with running_pool(family, ItemPool(spec, PoolSettings(processes=1))) as pool:
                try:
                    return await action(FamilyScorer(family, pool))
                except GenerationFailed as exc:
                    raise CLIError(str(exc)) from exc
    raise CLIError(f"unknown environment {env!r}"
                   + (f" in family {family_spec!r}" if family_spec else "; `rewardgym envs` lists them"))


def _remote(url: str, action: Any) -> Any:
    """Run `action` with a `rewardgym_client.RewardClient` (the one way Python code talks to a server). A gateway
    started with --token-file wants that token: the client sends $REWARDGYM_TOKEN when it is set."""
    try:
        from rewardgym_client import RewardClient, RewardGymError, ServerError
    except ImportError as exc:
        raise CLIError("--url needs the client: pip install rewardgym-client") from exc
    try:
        with RewardClient(url, token=os.environ.get("REWARDGYM_TOKEN") or None, timeout_s=300.0) as client:
            return action(client)
    except ServerError as exc:
        raise CLIError(f"server answered {exc.status_code}: {exc.detail}") from exc
    except RewardGymError as exc:
        raise CLIError(str(exc)) from exc


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in (header, *rows)]
    return "\n".join(lines)


def run_slurm(args: argparse.Namespace) -> int:
    from rewardgym.server.slurm import SlurmConfigError, launch

    logging.basicConfig(level=logging.INFO, format="%(asctime)s slurm-launcher %(levelname)s %(message)s")
    try:
        return launch(args.config, args.job_dir)
    except SlurmConfigError as exc:
        raise CLIError(str(exc)) from exc


COMMANDS = {"serve": run_serve, "worker": run_worker, "envs": run_envs, "score": run_score, "tasks": run_tasks,
            "slurm": run_slurm}

if __name__ == "__main__":
    sys.exit(main())
