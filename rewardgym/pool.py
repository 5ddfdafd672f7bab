"""A pool of scoring processes, each running one item at a time under a hard deadline.

Why processes and not threads: sympy and math-verify can hang in C code and use SIGALRM, and user code can loop;
the only deadline that always holds is killing the process (DESIGN.md invariant 2). A killed or crashed process
fails only its own item and is replaced at once. Processes come from a fork server that has already imported the
family, so a replacement costs a fork, not an import.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from rewardgym.protocol import Status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoreJob:
    env: str
    task: dict[str, Any]
    completion: str


@dataclass(frozen=True)
class GenerateJob:
    env: str
    seed: int
    index: int
    options: dict[str, Any]


Job = ScoreJob | GenerateJob


@dataclass(frozen=True)
class Outcome:
    """What a job produced. For scoring, `value` holds status/reward/components/details; for generation,
    prompt/task (or status/message when it failed)."""

    status: Status
    value: dict[str, Any]
    elapsed_ms: float


@dataclass
class PoolSettings:
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    max_items_per_process: int = 10_000
    """Recycle a process after this many items, to bound slow leaks in verifier libraries."""
    max_rss_mb: int = 1024
    """Recycle a process whose resident memory passes this after an item."""
    address_space_limit_mb: int | None = 8192
    """RLIMIT_AS of scoring processes, so one pathological item cannot take the host's memory."""


class ItemPool:
    """Runs jobs of one family in `settings.processes` processes, one job per process at a time."""

    def __init__(self, family_spec: str, settings: PoolSettings | None = None) -> None:
        self.family_spec = family_spec
        self.settings = settings or PoolSettings()
        self._context = multiprocessing.get_context("forkserver")
        self._idle: asyncio.Queue[_Slot] = asyncio.Queue()
        self._slots: list[_Slot] = []
        self.waiting = 0
        self.running = 0
        self.replaced = 0

    async def start(self) -> None:
        from rewardgym.preload import PRELOAD_ENV_VAR

        os.environ[PRELOAD_ENV_VAR] = self.family_spec  # read by rewardgym.preload in the fork server
        self._context.set_forkserver_preload(["__main__", "rewardgym.preload"])
        loop = asyncio.get_running_loop()
        slots = await asyncio.gather(
            *(loop.run_in_executor(None, self._new_slot) for _ in range(self.settings.processes))
        )
        for slot in slots:
            self._slots.append(slot)
            self._idle.put_nowait(slot)

    async def close(self) -> None:
        for slot in self._slots:
            slot.kill()
        self._slots.clear()

    @property
    def size(self) -> int:
        return self.settings.processes

    async def run(self, job: Job, deadline_s: float) -> Outcome:
        """Run `job` in the next free process; kill that process if it takes longer than `deadline_s`."""
        self.waiting += 1
        try:
            slot = await self._idle.get()
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            outcome, healthy = await slot.call(job, deadline_s)
            if not healthy or slot.should_recycle(self.settings):
                slot = await self._replace(slot)
            return outcome
        finally:
            self.running -= 1
            self._idle.put_nowait(slot)

    async def _replace(self, slot: "_Slot") -> "_Slot":
        slot.kill()
        self.replaced += 1
        fresh = await asyncio.get_running_loop().run_in_executor(None, self._new_slot)
        self._slots[self._slots.index(slot)] = fresh
        return fresh

    def _new_slot(self) -> "_Slot":
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_child_main,
            args=(child_end, self.family_spec, self.settings.address_space_limit_mb),
            daemon=True,
        )
        process.start()
        child_end.close()
        return _Slot(process, parent_end)

    def pids(self) -> list[int]:
        return [slot.process.pid for slot in self._slots if slot.process.pid is not None]


class _Slot:
    """One scoring process and its pipe."""

    def __init__(self, process: multiprocessing.process.BaseProcess, conn: multiprocessing.connection.Connection):
        self.process = process
        self.conn = conn
        self.items = 0
        self.rss_kb = 0

    async def call(self, job: Job, deadline_s: float) -> tuple[Outcome, bool]:
        """Returns the outcome and whether the process is still usable."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        readable = loop.create_future()
        fd = self.conn.fileno()
        loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
        try:
            self.conn.send(job)
            await asyncio.wait_for(readable, timeout=deadline_s)
            status, value, self.rss_kb = self.conn.recv()
        except asyncio.TimeoutError:
            return _failed(Status.TIMEOUT, f"item exceeded its deadline of {deadline_s:g} s", started), False
        except (EOFError, OSError, BrokenPipeError) as exc:
            self.process.join(timeout=0.5)
            reason = _exit_reason(self.process.exitcode)
            return _failed(Status.ERROR, f"scoring process died ({reason})", started, exc), False
        finally:
            loop.remove_reader(fd)
        self.items += 1
        return Outcome(Status(status), value, _ms_since(started)), True

    def should_recycle(self, settings: PoolSettings) -> bool:
        return self.items >= settings.max_items_per_process or self.rss_kb > settings.max_rss_mb * 1024

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=2)
        self.conn.close()


def _failed(status: Status, message: str, started: float, exc: BaseException | None = None) -> Outcome:
    if exc is not None:
        log.warning("%s: %r", message, exc)
    return Outcome(status, {"message": message}, _ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        return f"killed by {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"


# --- inside the scoring process -------------------------------------------------------------------------------


def _child_main(conn: multiprocessing.connection.Connection, family_spec: str, as_limit_mb: int | None) -> None:
    """Loop of a scoring process: receive a job, run it, send (status, value, rss_kb)."""
    from rewardgym import preload
    from rewardgym.execution import FamilyExecutor

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if as_limit_mb is not None:
        limit = as_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if preload.warm_executor is not None and preload.warm_family == family_spec:
        executor = preload.warm_executor
    else:
        executor = FamilyExecutor.load(family_spec)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        status, value = executor.run(job)
        conn.send((status.value, value, _rss_kb()))


def _rss_kb() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:
        return 0
