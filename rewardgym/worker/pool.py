"""A pool of scoring processes, each running one item at a time under a hard deadline.

Why processes and not threads: sympy and math-verify can hang in C code and use SIGALRM, and user code can loop;
the only deadline that always holds is killing the process (DESIGN.md invariant 2). A killed or crashed process
fails only its own item and is replaced at once. Processes come from a fork server that has already imported the
family, so a replacement costs a fork, not an import.
"""

from __future__ import annotations

import asyncio
import collections
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
from rewardgym.worker.jobs import Job, Outcome

log = logging.getLogger(__name__)


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
    """Runs jobs of one family in `settings.processes` processes, each process one job at a time.

    Each process also holds the next job in its pipe while it runs the current one, so it never idles waiting
    for this (busy) event loop to hand it work. A job's deadline starts when its process starts it: the process
    reports, with each result, when it finished (CLOCK_MONOTONIC is shared by all processes), which is when it
    started the job queued behind. A job queued behind one that is killed never ran: it goes back in the queue.
    """

    def __init__(self, family_spec: str, settings: PoolSettings | None = None) -> None:
        self.family_spec = family_spec
        self.settings = settings or PoolSettings()
        self._context = multiprocessing.get_context("forkserver")
        self._queue: asyncio.Queue[_Entry] = asyncio.Queue()
        self._slots: list[_Slot] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._idle_slots = 0
        self.running = 0
        self.replaced = 0

    async def start(self) -> None:
        from rewardgym.worker.preload import PRELOAD_ENV_VAR

        os.environ[PRELOAD_ENV_VAR] = self.family_spec  # read by rewardgym.worker.preload in the fork server
        self._context.set_forkserver_preload(["__main__", "rewardgym.worker.preload"])
        loop = asyncio.get_running_loop()
        self._slots = list(await asyncio.gather(
            *(loop.run_in_executor(None, self._new_slot) for _ in range(self.settings.processes))
        ))
        self._tasks = [asyncio.create_task(self._serve(index)) for index in range(len(self._slots))]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for slot in self._slots:
            slot.kill()
        self._slots.clear()

    @property
    def size(self) -> int:
        return self.settings.processes

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    async def run(self, job: Job, deadline_s: float) -> Outcome:
        """Run `job` in the next free process; kill that process if the job runs longer than `deadline_s`."""
        return await self.submit(job, deadline_s)

    def submit(self, job: Job, deadline_s: float) -> "asyncio.Future[Outcome]":
        """Queue `job` and return the future of its outcome (no task per item: batches queue thousands)."""
        entry = _Entry(job, deadline_s, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(entry)
        return entry.outcome

    def pids(self) -> list[int]:
        return [slot.process.pid for slot in self._slots if slot.process.pid is not None]

    async def _serve(self, index: int) -> None:
        """The loop of one slot: take jobs, keep at most two in its process, settle them, replace the process
        when it is killed, dies, or is due for recycling."""
        loop = asyncio.get_running_loop()
        while True:
            slot = self._slots[index]
            in_flight: collections.deque[_Entry] = collections.deque()
            healthy = True
            while healthy and not (slot.should_recycle(self.settings) and not in_flight):
                if not in_flight:
                    self._idle_slots += 1
                    try:
                        entry = await self._queue.get()
                    finally:
                        self._idle_slots -= 1
                    entry.started_at = time.monotonic()
                    healthy = self._send(slot, entry, in_flight)
                    continue
                if len(in_flight) < 2 and self._queue.qsize() > self._idle_slots \
                        and not slot.should_recycle(self.settings):
                    healthy = self._send(slot, self._queue.get_nowait(), in_flight)
                    continue
                healthy = await self._settle_head(slot, in_flight, loop)
            for entry in in_flight:  # queued behind a failure: never started, so run it elsewhere
                self._queue.put_nowait(entry)
            self.replaced += 1
            slot.kill()
            self._slots[index] = await loop.run_in_executor(None, self._new_slot)

    def _send(self, slot: "_Slot", entry: "_Entry", in_flight: "collections.deque[_Entry]") -> bool:
        in_flight.append(entry)
        self.running += 1
        try:
            slot.conn.send(entry.job)
            return True
        except (OSError, ValueError) as exc:
            in_flight.pop()
            self.running -= 1
            self._queue.put_nowait(entry)
            log.warning("cannot send a job to scoring process %s: %r", slot.process.pid, exc)
            return False

    async def _settle_head(self, slot: "_Slot", in_flight: "collections.deque[_Entry]",
                           loop: asyncio.AbstractEventLoop) -> bool:
        """Wait for the oldest job's result or deadline. Returns whether the process is still usable."""
        head = in_flight[0]
        if not await slot.readable(head.started_at + head.deadline_s, loop):
            in_flight.popleft()
            self._settle(head, _failed(Status.TIMEOUT, f"item exceeded its deadline of {head.deadline_s:g} s",
                                       head.started_at))
            return False
        try:
            status, value, slot.rss_kb, finished_at = slot.conn.recv()
        except (EOFError, OSError) as exc:
            in_flight.popleft()
            slot.process.join(timeout=0.5)
            reason = _exit_reason(slot.process.exitcode)
            self._settle(head, _failed(Status.ERROR, f"scoring process died ({reason})", head.started_at, exc))
            return False
        in_flight.popleft()
        slot.items += 1
        elapsed_ms = round((finished_at - head.started_at) * 1000, 3)
        self._settle(head, Outcome(Status(status), value, elapsed_ms))
        if in_flight:
            in_flight[0].started_at = finished_at
        return True

    def _settle(self, entry: "_Entry", outcome: Outcome) -> None:
        self.running -= 1
        if not entry.outcome.done():
            entry.outcome.set_result(outcome)

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


@dataclass
class _Entry:
    job: Job
    deadline_s: float
    outcome: "asyncio.Future[Outcome]"
    started_at: float = 0.0
    """CLOCK_MONOTONIC time its process started it (once known)."""


class _Slot:
    """One scoring process and its pipe."""

    def __init__(self, process: multiprocessing.process.BaseProcess, conn: multiprocessing.connection.Connection):
        self.process = process
        self.conn = conn
        self.items = 0
        self.rss_kb = 0
        self._watching = False
        self._woken: asyncio.Future[None] | None = None

    async def readable(self, deadline: float, loop: asyncio.AbstractEventLoop) -> bool:
        """Wait until the pipe has data (or EOF) or the monotonic `deadline` passes; True if readable.

        The pipe stays registered with the event loop for the slot's life (one registration, not one per item),
        so a wake-up can be stale (dispatched for data already read): the answer comes from the pipe and the
        clock, never from the wake-up itself.
        """
        while not self.conn.poll():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if not self._watching:
                loop.add_reader(self.conn.fileno(), self._wake)
                self._watching = True
            self._woken = loop.create_future()
            timer = loop.call_later(remaining, self._wake)
            try:
                await self._woken
            finally:
                timer.cancel()
                self._woken = None
        return True

    def _wake(self) -> None:
        if self._woken is not None and not self._woken.done():
            self._woken.set_result(None)

    def should_recycle(self, settings: PoolSettings) -> bool:
        return self.items >= settings.max_items_per_process or self.rss_kb > settings.max_rss_mb * 1024

    def kill(self) -> None:
        if self._watching:
            asyncio.get_running_loop().remove_reader(self.conn.fileno())
            self._watching = False
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=2)
        self.conn.close()


def _failed(status: Status, message: str, started: float, exc: BaseException | None = None) -> Outcome:
    if exc is not None:
        log.warning("%s: %r", message, exc)
    return Outcome(status, {"message": message}, _ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 3)


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        return f"killed by {signal.Signals(-exitcode).name}"
    return f"exit code {exitcode}"


# --- inside the scoring process -------------------------------------------------------------------------------


def _child_main(conn: multiprocessing.connection.Connection, family_spec: str, as_limit_mb: int | None) -> None:
    """Loop of a scoring process: receive a job, run it, send (status, value, rss_kb, finished_at)."""
    from rewardgym.worker import preload
    from rewardgym.worker.execution import FamilyExecutor

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
        conn.send((status.value, value, _rss_kb(), time.monotonic()))


def _rss_kb() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:
        return 0
