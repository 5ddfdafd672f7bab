"""The Docker runtime: each configured image runs as N worker containers, reached over Unix sockets.

Containers run with `--network none`, memory and CPU limits and labels that mark them as ours. A socket directory
is mounted at `/run/rewardgym` in every container (a host directory, or a named volume when the gateway itself
runs in compose); each container is told by `$REWARDGYM_SOCKET` where to create its socket (the contract of a
worker image), and the gateway talks HTTP over it. A crashed container is replaced; on start, containers a crashed
gateway left behind (same owner label) are removed; on stop, ours are removed.

Docker SDK errors are translated into `DockerRuntimeError` here, at one boundary.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from rewardgym.server.runtimes.base import ImageRuntime, WorkerHandle, WorkerNotReady
from rewardgym_sandboxes.manager import forget_connections

log = logging.getLogger("rewardgym.runtime.docker")

LABEL_MANAGED = "rewardgym.managed"
LABEL_OWNER = "rewardgym.owner"
LABEL_IMAGE = "rewardgym.image"
SOCKET_MOUNT = "/run/rewardgym"
SANDBOX_MOUNT = "/run/sandbox"


class DockerRuntimeError(Exception):
    """Docker refused or failed an operation (the daemon is down, an image is missing, a container died)."""


@dataclass(frozen=True)
class ImageSpec:
    """One image to run, as the config file or `POST /v1/images` gives it."""

    image: str
    replicas: int = 1
    memory: str = "2g"
    cpus: float = 1.0
    processes: int | None = None
    """Scoring processes per replica; passed to the worker as REWARDGYM_PROCESSES (default: its CPU share)."""
    ready_timeout_s: float = 120.0
    sandbox_slots: int = 0
    """Warm sandbox containers for this image's workers (families that run model code, e.g. rewardgym/code);
    their sockets are mounted at /run/sandbox in every replica."""

    def __post_init__(self) -> None:
        if not self.image or any(c.isspace() for c in self.image):
            raise ValueError(f"Expected an image name, got {self.image!r}")
        if not 1 <= self.replicas <= 64:
            raise ValueError(f"Expected 1 to 64 replicas, got {self.replicas}")
        if not 0 < self.cpus <= 256:
            raise ValueError(f"Expected cpus in (0, 256], got {self.cpus}")
        if not 0 <= self.sandbox_slots <= 64:
            raise ValueError(f"Expected 0 to 64 sandbox slots, got {self.sandbox_slots}")


class _Replica:
    """One container of an image and the supervision loop that keeps it running."""

    def __init__(self, spec: ImageSpec, index: int, handle: WorkerHandle) -> None:
        self.spec = spec
        self.index = index
        self.handle = handle
        self.container: Any = None
        self.socket_name = ""
        self.task: asyncio.Task[None] | None = None


class DockerRuntime(ImageRuntime):
    health_failures_allowed = 3  # a container under a burst of work may miss a probe or two

    def __init__(self, images: list[ImageSpec], owner: str = "default", socket_root: str | None = None,
                 socket_volume: str | None = None, socket_subdir: str = "", client: Any = None) -> None:
        """`socket_root` is where this process sees the sockets; containers get `socket_volume` (a named volume)
        mounted at /run/rewardgym if given, else `socket_root` itself; sockets go in `socket_subdir` of it."""
        super().__init__()
        self.images = list(images)
        self.owner = owner
        self._own_socket_root = socket_root is None  # ours to remove on stop
        self.socket_root = socket_root or tempfile.mkdtemp(prefix="rewardgym-docker-")
        self.socket_volume = socket_volume
        self.socket_subdir = socket_subdir
        self._client = client
        self._replicas: dict[str, list[_Replica]] = {}
        self._sandboxes: dict[str, Any] = {}
        self._stopping = False

    def describe(self) -> str:
        listed = ", ".join(f"{spec.image} x{spec.replicas}" for spec in self.images) or "no images yet"
        return f"docker runtime (owner {self.owner!r}): {listed}; sockets under {self.socket_root}"

    @property
    def docker(self) -> Any:
        if self._client is None:
            import docker

            try:
                self._client = docker.from_env(timeout=60)
                self._client.ping()
            except docker.errors.DockerException as exc:
                raise DockerRuntimeError(f"cannot reach the Docker daemon: {exc}") from exc
        return self._client

    async def start(self) -> None:
        socket_dir = os.path.join(self.socket_root, self.socket_subdir)
        os.makedirs(socket_dir, exist_ok=True)
        os.chmod(socket_dir, 0o1777)  # workers may run as any uid; sticky, so none can remove another's socket
        await asyncio.to_thread(self.remove_leftovers)
        for spec in self.images:
            await self._start_sandboxes(spec)
            self._launch(spec)

    async def stop(self) -> None:
        self._stopping = True
        for image in set(self._replicas) | set(self._sandboxes):
            await self.remove_image(image)
        if self._own_socket_root:  # else every gateway run left a directory in /tmp
            shutil.rmtree(self.socket_root, ignore_errors=True)

    def remove_leftovers(self) -> int:
        """Remove containers of this owner that a previous gateway (maybe killed) left behind."""
        import docker

        try:
            leftovers = self.docker.containers.list(
                all=True, filters={"label": [f"{LABEL_MANAGED}=true", f"{LABEL_OWNER}={self.owner}"]})
            for container in leftovers:
                log.warning("removing leftover container %s (%s)", container.name, container.labels.get(LABEL_IMAGE))
                container.remove(force=True)
        except docker.errors.DockerException as exc:
            raise DockerRuntimeError(f"cannot clean up leftover containers: {exc}") from exc
        return len(leftovers)

    async def add_image(self, spec: ImageSpec) -> list[WorkerHandle]:
        """Start `spec`'s replicas and wait until all are ready; on failure, remove them and raise."""
        if spec.image in self._replicas:
            raise DockerRuntimeError(f"image {spec.image} is already registered")
        await self._start_sandboxes(spec)
        replicas = self._launch(spec)
        try:
            await asyncio.wait_for(self._all_ready(replicas), timeout=spec.ready_timeout_s + 10)
        except (asyncio.TimeoutError, WorkerNotReady, DockerRuntimeError) as exc:
            reason = getattr(replicas[0].handle, "last_error", None) or exc
            await self.remove_image(spec.image)
            raise DockerRuntimeError(f"image {spec.image} did not become ready: {reason}") from exc
        self.images.append(spec)
        return [replica.handle for replica in replicas]

    def handles_of(self, image: str) -> list[WorkerHandle]:
        return [replica.handle for replica in self._replicas.get(image, [])]

    async def remove_image(self, image: str) -> None:
        replicas = self._replicas.pop(image, [])
        for replica in replicas:
            if replica.task is not None:
                replica.task.cancel()
        for replica in replicas:
            self.handles.remove(replica.handle)
            await asyncio.to_thread(self._remove_container, replica)
            await replica.handle.close()
        sandboxes = self._sandboxes.pop(image, None)
        if sandboxes is not None:
            await asyncio.to_thread(sandboxes.stop)
        self.images = [spec for spec in self.images if spec.image != image]
        self.on_change()

    async def _start_sandboxes(self, spec: ImageSpec) -> None:
        """Warm sandbox containers for `spec`, owned by the workers' user (uid 1000 in our images)."""
        if not spec.sandbox_slots:
            return
        if self.socket_volume:
            raise DockerRuntimeError("sandbox_slots needs the gateway on the host (in compose, run the sandbox "
                                     "services of docker-compose.yml instead)")
        from rewardgym_sandboxes.manager import SandboxManager

        from rewardgym_sandboxes.manager import IMAGE as SANDBOX_IMAGE

        directory = os.path.join(self.socket_root, f"sandbox-{re.sub(r'[^a-zA-Z0-9_.-]', '-', spec.image)}")
        try:
            manager = SandboxManager(spec.sandbox_slots, SANDBOX_IMAGE, directory, socket_owner="1000:1000")
            await asyncio.to_thread(manager.start)
        except Exception as exc:  # noqa: BLE001 - docker SDK and readiness errors, translated here
            raise DockerRuntimeError(f"cannot start sandbox containers for {spec.image}: {exc}") from exc
        manager.run_in_background()
        self._sandboxes[spec.image] = manager

    def _launch(self, spec: ImageSpec) -> list[_Replica]:
        replicas = []
        for index in range(spec.replicas):
            handle = WorkerHandle(f"{spec.image}#{index}")
            replica = _Replica(spec, index, handle)
            replica.task = asyncio.create_task(self._supervise(replica))
            replicas.append(replica)
            self.handles.append(handle)
        self._replicas[spec.image] = replicas
        return replicas

    async def _all_ready(self, replicas: list[_Replica]) -> None:
        while True:
            failed = [r for r in replicas if r.handle.state == "unavailable"]
            if failed:
                raise WorkerNotReady(getattr(failed[0].handle, "last_error", "worker unavailable"))
            if all(r.handle.state == "ready" for r in replicas):
                return
            await asyncio.sleep(0.05)

    async def _supervise(self, replica: _Replica) -> None:
        """Start the container, wait until ready, health-check it, and replace it whenever it dies."""
        backoff = 0.5
        handle = replica.handle
        while not self._stopping:
            try:
                await asyncio.to_thread(self._start_container, replica)
                socket = await self._wait_for_socket(replica)
                handle.set_uds(socket)
                await handle.wait_ready(replica.spec.ready_timeout_s, alive=lambda: self._running(replica))
                backoff = 0.5
                self.mark_ready(handle)
                reason = await self.watch(handle, alive=lambda: asyncio.to_thread(self._running, replica))
            except (WorkerNotReady, DockerRuntimeError) as exc:
                handle.last_error = f"{exc}{self._logs_tail(replica)}"
                log.error("worker %s: %s", handle.name, handle.last_error)
                if handle.restarts == 0 and not handle.envs:
                    handle.state = "unavailable"  # never came up: a broken image, not a crash to retry forever
                    self.on_change()
                    return
                reason = str(exc)
            if self._stopping:
                return
            await self.mark_down(handle, f"container {replica.container.name if replica.container else '?'}: "
                                         f"{reason}; replacing it in {backoff:.1f} s")
            await asyncio.to_thread(self._remove_container, replica)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    async def _wait_for_socket(self, replica: _Replica) -> str:
        deadline = time.monotonic() + replica.spec.ready_timeout_s
        path = os.path.join(self.socket_root, self.socket_subdir, replica.socket_name)
        while time.monotonic() < deadline:
            if os.path.exists(path):
                return path
            if not await asyncio.to_thread(self._running, replica):
                raise WorkerNotReady(f"container of {replica.spec.image} exited before creating its socket")
            await asyncio.sleep(0.05)
        raise WorkerNotReady(f"no socket at $REWARDGYM_SOCKET after {replica.spec.ready_timeout_s:g} s")

    def _start_container(self, replica: _Replica) -> None:
        import docker

        spec = replica.spec
        name = (f"rewardgym-{self.owner}-{re.sub(r'[^a-zA-Z0-9_.-]', '-', spec.image)}-{replica.index}-"
                f"{secrets.token_hex(3)}")
        replica.socket_name = f"{name}.sock"
        environment = {
            "REWARDGYM_SOCKET": "/".join(part for part in (SOCKET_MOUNT, self.socket_subdir, replica.socket_name)
                                         if part),
            "REWARDGYM_PROCESSES": str(spec.processes or max(1, round(spec.cpus))),
        }
        volumes = {self.socket_volume or self.socket_root: {"bind": SOCKET_MOUNT, "mode": "rw"}}
        sandboxes = self._sandboxes.get(spec.image)
        if sandboxes is not None:
            volumes[sandboxes.socket_dir] = {"bind": SANDBOX_MOUNT, "mode": "rw"}
            environment["REWARDGYM_SANDBOX_DIR"] = SANDBOX_MOUNT
        try:
            replica.container = self.docker.containers.run(
                spec.image, detach=True, network_mode="none", name=name,
                labels={LABEL_MANAGED: "true", LABEL_OWNER: self.owner, LABEL_IMAGE: spec.image},
                volumes=volumes,
                environment=environment, mem_limit=spec.memory, nano_cpus=int(spec.cpus * 1e9),
                init=True, security_opt=["no-new-privileges"], cap_drop=["ALL"],
            )
        except docker.errors.ImageNotFound as exc:
            raise DockerRuntimeError(f"image {spec.image} not found (build it, or docker load it)") from exc
        except docker.errors.DockerException as exc:
            raise DockerRuntimeError(f"cannot start {spec.image}: {exc}") from exc

    def _running(self, replica: _Replica) -> bool:
        import docker

        try:
            replica.container.reload()
            return replica.container.status in ("created", "running")
        except docker.errors.DockerException:
            return False

    def _logs_tail(self, replica: _Replica) -> str:
        try:
            logs = replica.container.logs(tail=5).decode(errors="replace").strip()
        except Exception:  # noqa: BLE001 - logs are a courtesy in an error message
            return ""
        return f"; its last output: {logs[-500:]}" if logs else ""

    def _remove_container(self, replica: _Replica) -> None:
        import docker

        if replica.container is None:
            return
        try:
            os.unlink(os.path.join(self.socket_root, self.socket_subdir, replica.socket_name))
        except OSError:
            pass
        try:
            replica.container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.DockerException as exc:
            log.error("cannot remove container %s: %s", replica.container.name, exc)
        forget_connections(self.docker, replica.container)
        replica.container = None

    def worker_containers(self, image: str) -> list[Any]:
        return [r.container for r in self._replicas.get(image, []) if r.container is not None]
