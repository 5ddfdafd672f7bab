"""The local runtime: one worker process per family on this host, reached over Unix sockets.

This is the embedded default of `rewardgym serve`. Each worker is supervised: when it exits, the requests it
was serving fail as `error` (their connections break), and it is started again with a short backoff.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import shutil
import signal
import sys
import tempfile

from rewardgym.server.runtimes.base import Runtime, WorkerHandle, WorkerNotReady

log = logging.getLogger("rewardgym.runtime.local")

READY_TIMEOUT_S = 120.0
MAX_BACKOFF_S = 10.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the worker before exec: if the gateway is killed, its workers go too (Linux only)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _kill_group(pgid: int) -> None:
    """SIGKILL what is left of a worker's process group once the worker is gone: a killed worker's fork server,
    resource tracker or scoring processes could otherwise outlive it (the soak found orphans that never exit)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class LocalRuntime(Runtime):
    def __init__(self, families: list[str], processes: int | None = None, socket_dir: str | None = None) -> None:
        super().__init__()
        self.families = families
        self.processes = processes or os.cpu_count() or 1
        self._own_socket_dir = socket_dir is None
        self.socket_dir = socket_dir or tempfile.mkdtemp(prefix="rewardgym-")
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        for family in families:
            socket = os.path.join(self.socket_dir, f"{family.replace(':', '_').replace('.', '_')}.sock")
            self.handles.append(WorkerHandle(family, uds=socket))

    def describe(self) -> str:
        return (f"local runtime: {len(self.families)} famil{'y' if len(self.families) == 1 else 'ies'} "
                f"({', '.join(self.families)}), {self.processes} scoring processes each, sockets in {self.socket_dir}")

    async def start(self) -> None:
        os.makedirs(self.socket_dir, mode=0o700, exist_ok=True)
        self._tasks = [asyncio.create_task(self._supervise(handle)) for handle in self.handles]

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for proc in self._procs.values():
            if proc.returncode is None:
                proc.terminate()
        for proc in self._procs.values():
            try:
                await asyncio.wait_for(proc.wait(), timeout=5)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        for proc in self._procs.values():
            _kill_group(proc.pid)
        for handle in self.handles:
            await handle.close()
        if self._own_socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    def worker_pid(self, family: str) -> int | None:
        proc = self._procs.get(family)
        return proc.pid if proc is not None and proc.returncode is None else None

    async def _until_down(self, handle: WorkerHandle, proc: asyncio.subprocess.Process) -> str:
        """Health checks, or the process's exit, whichever says first that the worker is down."""
        watch = asyncio.ensure_future(self.watch(handle))
        exit_ = asyncio.ensure_future(proc.wait())
        try:
            await asyncio.wait({watch, exit_}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch.cancel()
            exit_.cancel()
        return "its process exited" if proc.returncode is not None else watch.result()

    async def _supervise(self, handle: WorkerHandle) -> None:
        """Start the worker, wait until ready, watch it, and start it again whenever it exits or stops answering."""
        backoff = 0.5
        # A worker's own TMPDIR, emptied whenever it exits: a killed worker cannot clean up after itself
        # (multiprocessing's listener directory, its sandboxes' scratch), and a restart must not inherit that.
        tmp = os.path.join(self.socket_dir, f"tmp-{os.path.basename(handle.uds or handle.name)}")
        while not self._stopping:
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp, mode=0o700)
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "rewardgym.worker", "--family", handle.name, "--socket", handle.uds or "",
                "--processes", str(self.processes), preexec_fn=_die_with_parent, env={**os.environ, "TMPDIR": tmp},
                start_new_session=True,  # its own group, so what it leaves behind when killed can be killed too
            )
            self._procs[handle.name] = proc
            try:
                await handle.wait_ready(READY_TIMEOUT_S, alive=lambda: proc.returncode is None)
                backoff = 0.5
                self.mark_ready(handle)
                reason = await self._until_down(handle, proc)
            except WorkerNotReady as exc:
                reason = str(exc)
            if proc.returncode is None:
                proc.kill()
            returncode = await proc.wait()
            _kill_group(proc.pid)
            if self._stopping:
                return
            await self.mark_down(handle, f"{reason} (exit status {returncode}); restarting in {backoff:.1f} s")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
