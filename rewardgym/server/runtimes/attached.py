"""Workers the gateway does not start, only finds and watches: remote URLs, or sockets in a shared directory.

- `remote`: a URL per worker started elsewhere (e.g. by SLURM on another node: `rewardgym worker --port`).
- socket directory: every `*.sock` in a directory is a worker. This is how the gateway finds the family
  containers of `docker compose`, which share a volume of sockets with it; compose restarts them, we only watch.
"""

from __future__ import annotations

import asyncio
import glob
import logging
import os

from rewardgym.server.runtimes.base import Runtime, WorkerHandle, WorkerNotReady

log = logging.getLogger("rewardgym.runtime.attached")

POLL_S = 1.0


class AttachedRuntime(Runtime):
    def __init__(self, urls: list[str] | None = None, socket_dir: str | None = None) -> None:
        super().__init__()
        self.urls = urls or []
        self.socket_dir = socket_dir
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._scanner: asyncio.Task[None] | None = None

    def describe(self) -> str:
        parts = [f"{len(self.urls)} remote worker(s)"] if self.urls else []
        if self.socket_dir:
            parts.append(f"workers whose sockets appear in {self.socket_dir}")
        return "attached runtime: " + " and ".join(parts)

    async def start(self) -> None:
        for url in self.urls:
            self._attach(WorkerHandle(url, url=url))
        if self.socket_dir:
            self._scanner = asyncio.create_task(self._scan())

    async def stop(self) -> None:
        tasks = list(self._tasks.values()) + ([self._scanner] if self._scanner else [])
        for task in tasks:
            task.cancel()
        for handle in self.handles:
            await handle.close()

    def _attach(self, handle: WorkerHandle) -> None:
        self.handles.append(handle)
        self._tasks[handle.name] = asyncio.create_task(self._watch(handle))

    async def _scan(self) -> None:
        while True:
            present = set(glob.glob(os.path.join(str(self.socket_dir), "*.sock")))
            known = {h.uds for h in self.handles if h.uds}
            for path in sorted(present - known):
                log.info("found worker socket %s", path)
                name = os.path.splitext(os.path.basename(path))[0]
                self._attach(WorkerHandle(name, uds=path))
            await asyncio.sleep(POLL_S)

    async def _watch(self, handle: WorkerHandle) -> None:
        """Wait until the worker answers, then keep checking it; a worker that stops answering is `starting`
        (requests get 503) until it answers again."""
        while True:
            try:
                await handle.wait_ready(timeout_s=3600)
                log.info("worker %s ready: %s", handle.name, ", ".join(env.name for env in handle.envs))
                self.on_change()
            except WorkerNotReady as exc:
                log.error("%s", exc)
                continue
            while True:
                await asyncio.sleep(POLL_S)
                try:
                    healthy = (await handle.client.get("/healthz", timeout=5)).status_code == 200
                except Exception:  # noqa: BLE001 - any failure to answer means down
                    healthy = False
                if not healthy:
                    break
            log.warning("worker %s stopped answering; waiting for it to come back", handle.name)
            handle.state = "starting"
            handle.restarts += 1
            await handle.reset_client()
            self.on_change()
