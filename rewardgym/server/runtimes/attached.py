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
                 expected_families: list[str] | None = None, workers_file: str | None = None,
                 token: str | None = None) -> None:
        """`workers_file`: one worker URL per line (`#` comments), re-read when it changes, so workers join and
        leave while the gateway serves. `token`: the workers' shared bearer token (see rewardgym/auth.py)."""
        super().__init__()
        self.urls = urls or []
        self.socket_dir = socket_dir
        self.expected_families = sorted(set(expected_families or []))
        self.workers_file = workers_file
        self.token = token
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._scanners: list[asyncio.Task[None]] = []
        self._workers_file_stamp: int | None = None

    def describe(self) -> str:
        parts = [f"{len(self.urls)} remote worker(s)"] if self.urls else []
        if self.workers_file:
            parts.append(f"the workers listed in {self.workers_file}")
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
            self._attach(WorkerHandle(url, url=url, token=self.token))
        if self.socket_dir:
            self._scanners.append(asyncio.create_task(self._scan()))
        if self.workers_file:
            self._follow_workers_file()  # the workers listed at start are attached before the first request
            self._scanners.append(asyncio.create_task(self._follow()))

    async def stop(self) -> None:
        for task in list(self._tasks.values()) + self._scanners:
            task.cancel()
        for handle in self.handles:
            await handle.close()

    def _attach(self, handle: WorkerHandle) -> None:
        self.handles.append(handle)
        self._tasks[handle.name] = asyncio.create_task(self._watch(handle))

    def _detach(self, handle: WorkerHandle) -> None:
        """A worker that left the workers file: out of rotation at once (its in-flight requests finish)."""
        log.info("worker %s left %s", handle.name, self.workers_file)
        self._tasks.pop(handle.name).cancel()
        self.handles.remove(handle)
        asyncio.create_task(handle.close())
        self.on_change()

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            self._follow_workers_file()

    def _follow_workers_file(self) -> None:
        """Attach the URLs newly listed in the workers file and detach those no longer listed."""
        try:
            stamp = os.stat(str(self.workers_file)).st_mtime_ns
            if stamp == self._workers_file_stamp:
                return
            with open(str(self.workers_file), encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError as exc:
            log.warning("cannot read the workers file %s: %s", self.workers_file, exc)
            return
        self._workers_file_stamp = stamp
        listed = [line.split("#", 1)[0].strip() for line in lines]
        listed = list(dict.fromkeys(url for url in listed if url))
        from_file = {h.url: h for h in self.handles if h.url and h.url not in self.urls}
        for url in listed:
            if url not in from_file and url not in self.urls:
                try:
                    self._attach(WorkerHandle(url, url=url, token=self.token))
                    log.info("worker %s joined from %s", url, self.workers_file)
                except ValueError as exc:
                    log.error("workers file %s: %s", self.workers_file, exc)
        for url, handle in from_file.items():
            if url not in listed:
                self._detach(handle)

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
