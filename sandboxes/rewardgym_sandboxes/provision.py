"""Sandbox slots for a worker whose environments run model-written code (the code family's resources call this).

`provision_sandboxes` runs once in the worker, before its scoring processes exist:
- `$REWARDGYM_SANDBOX_DIR` already set (compose, or the Docker runtime mounted sandbox sockets): use those;
- else, with a Docker engine and the `rewardgym/sandbox` image: start one warm sandbox container per core
  (`rewardgym_sandboxes.manager`), and point `$REWARDGYM_SANDBOX_DIR` at their sockets;
- else: the local fallback (supervisors as local processes, started by the scoring processes on first use), each
  under bubblewrap (`bwrap.py`); where bwrap cannot create namespaces, refused (every code item is status error
  with how to enable isolation) unless the operator passed `--unsafe-sandbox`. Decided here, once, and inherited
  by the scoring processes through the environment.
Whichever is chosen is logged once, in one line, so an operator always knows which isolation is in force; the
line is also handed to the worker (`$REWARDGYM_SANDBOX_ISOLATION`), which shows it per environment in /v1/envs.
"""

from __future__ import annotations

import logging
import os
from typing import Callable

from .manager import IMAGE as SANDBOX_IMAGE
from . import bwrap
from .pool import SANDBOX_DIR_ENV, isolation_summary, local_mode

log = logging.getLogger("rewardgym.sandbox.provision")


def provision_sandboxes(socket_dir: str, slots: int) -> Callable[[], None]:
    """Make sandbox slots available to this process and its children; returns what stops them."""
    stop: Callable[[], None] = lambda: None  # noqa: E731
    if not os.environ.get(SANDBOX_DIR_ENV):
        reason = _docker_unavailable()
        if reason is None:
            from .manager import SandboxManager

            manager = SandboxManager(slots, SANDBOX_IMAGE, socket_dir).start().run_in_background()
            os.environ[SANDBOX_DIR_ENV] = manager.socket_dir
            stop = manager.stop
        else:
            log.warning("sandbox: not using containers: %s", reason)
            _decide_local_mode()
    summary = isolation_summary()
    os.environ[bwrap.ISOLATION_ENV] = summary
    (log.error if summary.startswith(("sandbox refused", "UNSAFE")) else log.warning)("%s", summary)
    return stop


def _decide_local_mode() -> None:
    """bwrap, unsafe or refused, for this worker and the scoring processes it starts."""
    os.environ.pop(bwrap.MODE_ENV, None)
    os.environ.pop(bwrap.REFUSAL_ENV, None)
    mode, message = local_mode()
    os.environ[bwrap.MODE_ENV] = mode
    if message:
        os.environ[bwrap.REFUSAL_ENV] = message


def _docker_unavailable() -> str | None:
    """Why warm sandbox containers cannot be used here, or None when they can."""
    try:
        import docker
    except ImportError:
        return "the docker Python package is not installed"
    try:
        client = docker.from_env(timeout=10)
        client.ping()
        client.images.get(SANDBOX_IMAGE)
    except docker.errors.ImageNotFound:
        return f"image {SANDBOX_IMAGE} is not built (scripts/build-images.sh builds it)"
    except docker.errors.DockerException as exc:
        return f"no Docker engine ({type(exc).__name__})"
    return None
