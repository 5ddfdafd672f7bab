"""Workers the gateway does not start, only finds and watches: remote URLs, or sockets in a shared directory.

- `remote`: a URL per worker started elsewhere (e.g. by SLURM on another node: `rewardgym worker --port`).
- socket directory: every `*.sock` in a directory is a worker. This is how the gateway finds the family
  containers of `docker compose`, which share a volume of sockets with it; compose restarts them, we only watch.

A worker's family is what its `/healthz` says; several workers of one family share its load. With
`expected_families`, the runtime is ready only when each of them has a ready worker (compose passes the list, so
a trainer waiting on `/readyz` never starts while a family's socket has yet to appear).
"""

from __future__ import annotations

import asyncio
import glob
import logging
import os

from rewardgym.server.runtimes.base import Runtime, WorkerHandle, WorkerNotReady

log = logging.getLogger("rewardgym.runtime.attached")

POLL_S = 1.0
"""How often the socket directory is scanned for new workers."""


class AttachedRuntime(Runtime):
    def __init__(self, urls: list[str] | None = None, socket_dir: str | None = None,
                 expected_families: list[str] | None = None) -> None:
        super().__init__()
        self.urls = urls or []
        self.socket_dir = socket_dir
        self.expected_families = sorted(set(expected_families or []))
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._scanner: asyncio.Task[None] | None = None

    def describe(self) -> str:
        parts = [f"{len(self.urls)} remote worker(s)"] if self.urls else []
        if self.socket_dir:
            parts.append(f"workers whose sockets appear in {self.socket_dir}")
        expecting = f", expecting families {', '.join(self.expected_families)}" if self.expected_families else ""
        return "attached runtime: " + " and ".join(parts) + expecting

    def missing(self) -> list[str]:
        if not self.expected_families:
            return super().missing()
        ready = {handle.family for handle in self.handles if handle.state == "ready"}
        return [f"family {family}" for family in self.expected_families if family not in ready]

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
        """Wait until the worker answers, then keep checking it; a worker that stops answering is out of rotation
        (its replicas serve, or requests get 503) until it answers again."""
        while True:
            try:
                await handle.wait_ready(timeout_s=3600)
            except WorkerNotReady as exc:
                log.error("%s", exc)
                continue
            self.mark_ready(handle)
            reason = await self.watch(handle)
            await self.mark_down(handle, f"{reason}; waiting for it to come back")
