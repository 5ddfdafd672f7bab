"""What every runtime hands the gateway: workers it started (or found), each reachable over HTTP.

A runtime only decides how a worker is started and reached (a local process, a Docker container, a URL). The
worker protocol, and so everything the gateway does with a `WorkerHandle`, is the same for all of them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from abc import ABC, abstractmethod
from typing import Awaitable, Callable, Literal

from rewardgym.protocol import EnvInfo
from rewardgym.server.worker_client import WorkerClient, WorkerUnavailable

log = logging.getLogger("rewardgym.runtime")

WorkerState = Literal["starting", "ready", "unavailable"]


class WorkerNotReady(Exception):
    """A worker did not become ready (it exited, or did not answer in time)."""


class WorkerHandle:
    """One running worker as the gateway sees it: its state, its catalogue, and an HTTP client to it."""

    def __init__(self, name: str, *, family: str | None = None, uds: str | None = None,
                 url: str | None = None, token: str | None = None) -> None:
        """`uds`: the worker's Unix socket; `url`: http://host:port of a remote worker; neither: set later.
        `token`: the workers' shared token (TCP workers off loopback require it)."""
        self.name = name
        self.token = token
        self.family = family or name
        """Replicas of one family share this; two families may not serve the same environment."""
        self.uds = uds
        self.url = url
        self.state: WorkerState = "starting"
        self.envs: list[EnvInfo] = []
        self.processes = 1
        self.restarts = 0
        self.inflight_items = 0
        self.last_error: str | None = None
        self.client: WorkerClient = self._new_client()

    def set_uds(self, path: str) -> None:
        """Point the handle at a socket found after start-up (a container names its own)."""
        self.uds = path
        self.client = self._new_client()

    def _new_client(self) -> WorkerClient:
        if self.uds:
            return WorkerClient(uds=self.uds)
        if self.url:
            return WorkerClient.for_url(self.url, token=self.token)
        return WorkerClient(uds="/nonexistent/worker-not-started.sock")  # fails as WorkerUnavailable until set

    async def wait_ready(self, timeout_s: float, alive: Callable[[], bool] = lambda: True) -> None:
        """Poll `/healthz` until it answers, then load the catalogue. No fixed sleeps: a short poll interval."""
        deadline = time.monotonic() + timeout_s
        delay = 0.05
        while True:
            if not alive():
                raise WorkerNotReady(f"worker {self.name} exited before it was ready")
            try:
                health = await self.client.get("/healthz", timeout=2.0)
                if health.status_code == 200:
                    catalogue = await self.client.get("/v1/envs", timeout=10.0)
                    if catalogue.status_code != 200:
                        raise ValueError(f"/v1/envs answered {catalogue.status_code}")
                    self.envs = [EnvInfo.model_validate(env) for env in catalogue.json()["envs"]]
                    status = health.json()
                    self.family = str(status["family"])  # the worker says what it serves, not its URL or socket
                    self.processes = int(status.get("processes", 1))
                    self.state = "ready"
                    self.last_error = None
                    return
            except (WorkerUnavailable, ValueError, KeyError, TypeError) as exc:
                last_error = exc
            else:
                last_error = RuntimeError(f"/healthz answered {health.status_code}")
            if time.monotonic() > deadline:
                raise WorkerNotReady(f"worker {self.name} not ready after {timeout_s:g} s: {last_error}")
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    async def healthy(self, timeout_s: float = 5.0) -> bool:
        """One `/healthz` probe: a worker that cannot serve answers 503, one that is gone does not answer."""
        try:
            return (await self.client.get("/healthz", timeout=timeout_s)).status_code == 200
        except WorkerUnavailable:
            return False

    async def mark_down(self, reason: str) -> None:
        """Take the worker out of rotation (requests go to its replicas, or get 503) until it is ready again."""
        self.state = "starting"
        self.restarts += 1
        self.last_error = reason
        old, self.client = self.client, self._new_client()  # pooled connections to the old worker are dead
        await old.aclose()

    async def close(self) -> None:
        await self.client.aclose()


class Runtime(ABC):
    """Starts, supervises and stops workers. `on_change` is called whenever a worker's state changes.

    Subclasses decide how a worker is started and reached; what happens when it becomes ready, stops answering
    or comes back is the same for all of them and lives here.
    """

    health_interval_s: float = 1.0
    health_failures_allowed: int = 2
    """Consecutive failed `/healthz` probes after which a worker is taken out of rotation."""

    def __init__(self) -> None:
        self.handles: list[WorkerHandle] = []
        self.on_change: Callable[[], None] = lambda: None

    def missing(self) -> list[str]:
        """What must still become ready before this runtime serves everything it was asked to (for /readyz)."""
        return sorted(handle.name for handle in self.handles if handle.state != "ready")

    def mark_ready(self, handle: WorkerHandle) -> None:
        log.info("worker %s (family %s) ready: %s", handle.name, handle.family,
                 ", ".join(env.name for env in handle.envs))
        self.on_change()

    async def mark_down(self, handle: WorkerHandle, reason: str) -> None:
        log.warning("worker %s is down: %s", handle.name, reason)
        await handle.mark_down(reason)
        self.on_change()

    async def watch(self, handle: WorkerHandle,
                    alive: Callable[[], bool | Awaitable[bool]] = lambda: True) -> str:
        """Probe a ready worker until it exits (`alive()` false) or fails its health checks; return why."""
        failures = 0
        while True:
            await asyncio.sleep(self.health_interval_s)
            running = alive()
            if not (await running if inspect.isawaitable(running) else running):
                return "it exited"
            failures = 0 if await handle.healthy() else failures + 1
            if failures >= self.health_failures_allowed:
                return f"{failures} health checks failed"

    @abstractmethod
    async def start(self) -> None:
        """Begin starting workers; return without waiting for them to be ready."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop every worker this runtime started."""

    @abstractmethod
    def describe(self) -> str:
        """One line for the start-up log: what runs where."""


class ImageRuntime(Runtime):
    """A runtime that can start workers from images registered while serving (`POST /v1/images`)."""

    images: list  # the registered image specs, in registration order

    @abstractmethod
    async def add_image(self, spec) -> list[WorkerHandle]:  # noqa: ANN001 - the runtime's own spec type
        """Start the image's workers and return their handles once ready; raise the runtime's error if not."""

    @abstractmethod
    async def remove_image(self, image: str) -> None:
        """Stop the image's workers and forget it."""

    @abstractmethod
    def handles_of(self, image: str) -> list[WorkerHandle]:
        """The workers started from `image`."""
