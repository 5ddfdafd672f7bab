"""A pool of scoring processes, each running one item at a time under a hard deadline.

Why processes and not threads: sympy and math-verify can hang in C code and use SIGALRM, and user code can loop;
the only deadline that always holds is killing the process (DESIGN.md invariant 2). A killed or crashed process
fails only its own item and is replaced at once. Processes come from a fork server that has already imported the
family, so a replacement costs a fork, not an import.

Whatever goes wrong between the pool and a process (a job that cannot be encoded, a process that hangs up, a
result that cannot be read) settles that item as `error` and the slot keeps serving, with a new process where
needed: a slot's serving task never ends while the pool is open. A slot whose process cannot be (re)started is
reported by `health()`, and retried with a backoff.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import multiprocessing
import os
import resource
import signal
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from rewardgym.protocol import Status
from rewardgym.worker.channel import ChannelClosed, ProcessChannel
from rewardgym.worker.dispatch import JobCost, JobQueue
from rewardgym.worker.jobs import Job, Outcome, decode_report, encode_job

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0
"""How long a new process may take to load its family and say it is ready."""
MAX_RESTART_BACKOFF_S = 5.0
MAX_SEND_ATTEMPTS = 3
"""A job is offered to this many processes that hung up before taking it, then fails as `error`."""


RETIRE_GRACE_S = 1.0
"""How long a scoring process may take to close its environments when the pool closes, before it is killed."""


@dataclass
class PoolSettings:
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    max_items_per_process: int = 10_000
    """Recycle a process after this many items, to bound slow leaks in verifier libraries."""
    max_rss_mb: int = 1024
    """Recycle a process whose resident memory passes this after an item."""
    address_space_limit_mb: int | None = 8192
    """RLIMIT_AS of scoring processes, so one pathological item cannot take the host's memory."""


@dataclass(frozen=True)
class PoolHealth:
    processes: int
    serving: int
    """Slots serving, or replacing their process as usual; the others' last start failed (retried with backoff)."""
    failing: list[str]
    """Why each slot that cannot serve cannot (its last start failure)."""

    @property
    def status(self) -> str:
        if self.serving == self.processes:
            return "ok"
        return "degraded" if self.serving else "unavailable"


class ItemPool:
    """Runs jobs of one family in `settings.processes` processes, each process one job at a time.

    Each process also holds the next jobs in its channel while it runs the current one (a few milliseconds of
    work: see `dispatch`), so it never idles waiting for this (busy) event loop to hand it work. A job's deadline
    starts when its process starts it: the process reports, with each result, when it finished (CLOCK_MONOTONIC is
    shared by all processes), which is when it started the job queued behind. A job queued behind one that is
    killed never ran: it goes back in the queue.
    """

    def __init__(self, family_spec: str, settings: PoolSettings | None = None) -> None:
        self.family_spec = family_spec
        self.settings = settings or PoolSettings()
        self._context = multiprocessing.get_context("forkserver")
        self._queue: JobQueue[_Entry] = JobQueue(self.settings.processes)
        self._cost = JobCost()
        self._slots: list[_Slot | None] = []
        self._start_failures: dict[int, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self.resources: Any = None
        """What the family's resources handed over (set before `start`): every scoring process sets up with it."""
        self.replaced = 0

    async def start(self) -> None:
        from rewardgym.worker.preload import PRELOAD_ENV_VAR

        os.environ[PRELOAD_ENV_VAR] = self.family_spec  # read by rewardgym.worker.preload in the fork server
        self._context.set_forkserver_preload(["__main__", "rewardgym.worker.preload"])
        self._slots = list(await asyncio.gather(*(self._start_slot() for _ in range(self.settings.processes))))
        self._tasks = [asyncio.create_task(self._serve(index)) for index in range(len(self._slots))]
        for task in self._tasks:
            task.add_done_callback(self._serving_ended)
        # Let every serving task reach its queue before any job arrives: a busy process takes a second job only
        # while more jobs wait than processes are idle, and one not yet waiting would not count as idle.
        for _ in range(1000):
            if self._queue.idle_slots >= len(self._tasks) or all(task.done() for task in self._tasks):
                break
            await asyncio.sleep(0)

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for slot in self._slots:
            if slot is not None:
                slot.retire()
        self._slots.clear()

    @property
    def size(self) -> int:
        return self.settings.processes

    @property
    def waiting(self) -> int:
        return len(self._queue)

    @property
    def running(self) -> int:
        """Jobs handed to a process and not settled yet (counted from the slots, so it cannot drift)."""
        return sum(len(slot.in_flight) for slot in self._slots if slot is not None)

    def health(self) -> PoolHealth:
        serving = sum(1 for index, task in enumerate(self._tasks)
                      if not task.done() and index not in self._start_failures)
        failing = [f"slot {index}: {reason}" for index, reason in sorted(self._start_failures.items())]
        failing += [f"slot {index}: its serving task ended" for index, task in enumerate(self._tasks) if task.done()]
        return PoolHealth(self.size, serving, failing)

    def submit(self, job: Job, deadline_s: float, slot_hint: int | None = None) -> "asyncio.Future[Outcome]":
        """Queue `job` and return the future of its outcome (no task per item: batches queue thousands). It runs
        in the next free process, which is killed if the job runs longer than `deadline_s`.

        `slot_hint`: the slot (an `Outcome.slot`) this job would rather run in, e.g. where a session's game is
        still in memory; another slot takes it when that one is busy and another is idle."""
        outcome: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put(_Entry(job, deadline_s, outcome.set_result, outcome.done), slot_hint)
        return outcome

    def submit_many(self, jobs: list[Job], deadline_s: float) -> "asyncio.Future[list[Outcome]]":
        """`submit` for a batch: one future for all the outcomes, in order (a future and a loop callback per item
        were a fair part of the worker's cost per cheap item)."""
        batch = _Batch(len(jobs), asyncio.get_running_loop().create_future())
        for index, job in enumerate(jobs):
            self._queue.put(_Entry(job, deadline_s, functools.partial(batch.settle, index), batch.future.done))
        return batch.future

    def pids(self) -> list[int]:
        return [slot.process.pid for slot in self._slots if slot is not None and slot.process.pid is not None]

    async def _serve(self, index: int) -> None:
        """The loop of one slot: feed and settle its process; replace it when it is killed, dies, misbehaves or
        is due for recycling. Nothing but cancellation ends this loop."""
        while True:
            slot = self._slots[index]
            if slot is None:
                self._slots[index] = await self._restart(index)
                continue
            self._watch_idle_death(index, slot)
            try:
                await self._feed(index, slot)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must cost the items in hand, never the slot
                log.exception("scoring slot %d failed; failing its current item and replacing its process", index)
                if slot.in_flight:
                    head = slot.in_flight.popleft()
                    self._settle(head, _failed(Status.ERROR, "the worker failed while running this item",
                                               head.started_at))
            for entry in slot.in_flight:  # queued behind a failure: never started, so run it elsewhere
                self._queue.put(entry)
            slot.in_flight.clear()
            self.replaced += 1
            self._slots[index] = None
            slot.kill()

    async def _feed(self, index: int, slot: "_Slot") -> None:
        """Keep `slot`'s process supplied with jobs and settle them, until it must be replaced."""
        in_flight = slot.in_flight
        while not (slot.should_recycle(self.settings) and not in_flight):
            if not in_flight:
                await self._queue.wait(index)
                if slot.channel.closed:  # it died while idle: replace it before it is given a job
                    return
                limit = min(self._cost.jobs_to_hold(), self._queue.share_for_idle(index))
                entries = self._queue.take(index, limit)
                if entries and not self._send(slot, entries):
                    return
                continue
            hold = self._cost.jobs_to_hold()
            if len(in_flight) * 2 <= hold and not slot.should_recycle(self.settings):
                extra = self._queue.take(index, min(hold - len(in_flight), self._queue.spare_for_busy()))
                if extra and not self._send(slot, extra):
                    return
            if not await self._settle_arrived(index, slot):
                return

    def _send(self, slot: "_Slot", entries: list["_Entry"]) -> bool:
        """Hand `entries` to `slot`'s process, in one write. Returns whether the process is still usable."""
        was_idle = not slot.in_flight
        messages, sent = [], []
        for entry in entries:
            try:
                messages.append(encode_job(entry.job))
            except Exception as exc:  # this job cannot travel (e.g. not JSON): its own error, the slot is fine
                self._settle(entry, _failed(Status.ERROR, f"the job could not be sent to a scoring process: "
                                            f"{type(exc).__name__}: {exc}", time.monotonic()))
                continue
            sent.append(entry)
        if not sent:
            return True
        if was_idle:
            sent[0].started_at = time.monotonic()
        try:
            slot.channel.send_many(messages)
        except ChannelClosed as exc:
            for entry in sent:
                entry.attempts += 1
                if entry.attempts >= MAX_SEND_ATTEMPTS:
                    self._settle(entry, _failed(Status.ERROR, "no scoring process took the job",
                                                entry.started_at or time.monotonic(), exc))
                else:
                    self._queue.put(entry)  # it reached no process: another one may take it
            return False
        slot.in_flight.extend(sent)
        return True

    async def _settle_arrived(self, index: int, slot: "_Slot") -> bool:
        """Wait for the oldest job's result or deadline, then settle every result already there. Returns whether
        the process is still usable."""
        head = slot.in_flight[0]
        try:
            message = await slot.channel.receive(head.started_at + head.deadline_s)
        except ChannelClosed as exc:
            slot.in_flight.popleft()
            await asyncio.to_thread(slot.process.join, 0.5)
            reason = _exit_reason(slot.process.exitcode)
            self._settle(head, _failed(Status.ERROR, f"scoring process died ({reason})", head.started_at, exc))
            return False
        if message is None:
            slot.in_flight.popleft()
            self._settle(head, _failed(Status.TIMEOUT, f"item exceeded its deadline of {head.deadline_s:g} s",
                                       head.started_at))
            return False
        while True:
            if not self._settle_report(index, slot, message):
                return False
            if not slot.in_flight:
                return True
            try:
                message = slot.channel.poll()
            except ChannelClosed:
                return True  # the head's wait will see it
            if message is None:
                return True

    def _settle_report(self, index: int, slot: "_Slot", message: bytes) -> bool:
        """Settle the oldest job with the result in `message`. Returns whether the process is still usable."""
        head = slot.in_flight.popleft()
        try:
            report = decode_report(message)
        except Exception as exc:  # a process that sends garbage is not trusted with the next job
            self._settle(head, _failed(Status.ERROR, "a scoring process sent an unreadable result",
                                       head.started_at, exc))
            return False
        slot.items += 1
        if report.rss_kb >= 0:
            slot.rss_kb = report.rss_kb
        self._cost.observe(report.finished_at - head.started_at)
        self._settle(head, Outcome(report.status, report.value,
                                   round((report.finished_at - head.started_at) * 1000, 3), index))
        if slot.in_flight:
            slot.in_flight[0].started_at = report.finished_at
        return True

    def _settle(self, entry: "_Entry", outcome: Outcome) -> None:
        if not entry.abandoned():  # its request was cancelled (the client hung up)
            entry.settle(outcome)

    async def _restart(self, index: int) -> "_Slot":
        """A new process for slot `index`, retried with a backoff for as long as it cannot start."""
        delay = 0.1
        while True:
            try:
                slot = await self._start_slot()
            except Exception as exc:
                self._start_failures[index] = f"{type(exc).__name__}: {exc}"
                log.error("cannot start a scoring process for slot %d: %r; retrying in %.1f s", index, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RESTART_BACKOFF_S)
                continue
            self._start_failures.pop(index, None)
            return slot

    async def _start_slot(self) -> "_Slot":
        """Start a process and wait until it has loaded its family and said so."""
        process, parent_end = await asyncio.to_thread(self._spawn)
        try:
            channel = await ProcessChannel.open(parent_end)
            hello = await channel.receive(time.monotonic() + START_TIMEOUT_S)
            if hello is None:
                raise TimeoutError(f"no hello from the new scoring process within {START_TIMEOUT_S:g} s")
        except BaseException as exc:
            parent_end.close()
            exitcode = await asyncio.to_thread(_stop, process)
            if isinstance(exc, ChannelClosed):
                raise RuntimeError(f"the new scoring process exited ({_exit_reason(exitcode)})") from exc
            raise
        return _Slot(process, channel)

    def _watch_idle_death(self, index: int, slot: "_Slot") -> None:
        """Wake slot `index` when its process's pipe closes, so a process that dies while idle is replaced at
        once, not found dead by the next job (which would then fail as `error`)."""
        slot.channel.on_close = functools.partial(self._queue.wake, index)

    def _spawn(self) -> tuple[multiprocessing.process.BaseProcess, socket.socket]:
        parent_end, child_end = socket.socketpair()
        try:
            process = self._context.Process(
                target=_child_main,
                args=(child_end, self.family_spec, self.settings.address_space_limit_mb, self.resources),
                daemon=True,
            )
            process.start()
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
        return process, parent_end

    def _serving_ended(self, task: "asyncio.Task[None]") -> None:
        if not self._closing and not task.cancelled():
            log.error("a scoring slot stopped serving: %r", task.exception())


@dataclass
class _Entry:
    job: Job
    deadline_s: float
    settle: Callable[[Outcome], None]
    abandoned: Callable[[], bool]
    started_at: float = 0.0
    """CLOCK_MONOTONIC time its process started it (once known)."""
    attempts: int = 0


class _Batch:
    """The outcomes of a `submit_many`, filled in as they come; its future is set once the last one is in."""

    def __init__(self, size: int, future: "asyncio.Future[list[Outcome]]") -> None:
        self.future = future
        self.outcomes: list[Outcome | None] = [None] * size
        self.missing = size
        if not size:
            future.set_result([])

    def settle(self, index: int, outcome: Outcome) -> None:
        if self.outcomes[index] is None:
            self.missing -= 1
        self.outcomes[index] = outcome
        if not self.missing and not self.future.done():
            self.future.set_result(self.outcomes)  # type: ignore[arg-type]


class _Slot:
    """One scoring process, its channel, and the jobs it holds (the one it runs and those queued behind)."""

    def __init__(self, process: multiprocessing.process.BaseProcess, channel: ProcessChannel) -> None:
        self.process = process
        self.channel = channel
        self.in_flight: collections.deque[_Entry] = collections.deque()
        self.items = 0
        self.rss_kb = 0

    def should_recycle(self, settings: PoolSettings) -> bool:
        return self.items >= settings.max_items_per_process or self.rss_kb > settings.max_rss_mb * 1024

    def kill(self) -> None:
        self.channel.close()
        _stop(self.process)

    def retire(self) -> None:
        """Stop an idle process the gentle way: it sees its channel close and runs the environments' `close`."""
        self.channel.close()
        self.process.join(timeout=RETIRE_GRACE_S)
        _stop(self.process)


def _stop(process: multiprocessing.process.BaseProcess) -> int | None:
    """Kill it if alive, reap it, and release its pipes now (a fork-server process holds two in this worker until
    the object is collected, which a killed one's was not: a worker leaked two descriptors per kill). Its exit code."""
    if process.is_alive():
        process.kill()
    process.join(timeout=2)
    exitcode = process.exitcode
    if exitcode is not None:
        process.close()
    return exitcode


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


def _child_main(sock: socket.socket, family_spec: str, as_limit_mb: int | None, resources: Any) -> None:
    """Loop of a scoring process: say hello, then receive a job, run it, send its `Report`."""
    from rewardgym.worker import preload
    from rewardgym.worker.execution import FamilyExecutor, run_message
    from rewardgym.worker.channel import FrameReader, write_message

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A SIGTERM to the worker's whole process group (Slurm ending a step, `kill -- -PGID`) stops the worker, which
    # finishes what it has in flight; dying here would turn those items into `error` (the pool kills us on close).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if as_limit_mb is not None:
        limit = as_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warm = preload.warm_executor
    if warm is not None and preload.warm_family == family_spec and warm.resources == resources:
        executor = warm
    else:  # the fork server warmed another family, or with other resources (several pools in one process)
        executor = FamilyExecutor.load(family_spec, resources)
    write_message(sock, b"hello")
    reader = FrameReader(sock)
    try:
        while True:
            try:
                message = reader.read()
            except (ChannelClosed, OSError):
                return
            if message is None:
                return
            # Memory is read once the jobs in hand are done, not after each (a read of /proc costs as much as a
            # cheap job); -1 tells the pool "unchanged".
            try:
                write_message(sock, run_message(executor, message, lambda: -1 if reader.has_message() else _rss_kb()))
            except OSError:  # the pool hung up (it is replacing or closing this process)
                return
    finally:
        executor.close()  # the environments' `close`, when the process stops (a killed one cannot)


def _rss_kb() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:
        return 0
