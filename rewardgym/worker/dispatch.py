"""Which scoring process gets which waiting job, and how many at a time.

Why jobs go out in runs: a scoring process that finishes a job in 30 us and then waits for the pool's event loop to
hand it the next one spends more time being woken than scoring (a cross-process wake-up costs tens of microseconds
on a VM). So each process holds a run of jobs sized to a few milliseconds of work, measured as it goes: cheap jobs
travel many at a time, slow ones two at a time (the one running and the next), and a batch is still spread over
every process (an idle process is always left its share).

A job may prefer one slot (a session's next step, where that process still has the game in memory); any other
idle slot takes it when its own slot is busy, since preferring is only about speed, never about correctness.
"""

from __future__ import annotations

import asyncio
import collections
import math
from typing import Generic, TypeVar

Entry = TypeVar("Entry")

HELD_WORK_S = 0.004
"""How much work (by the measured cost of recent jobs) a busy process holds beyond the job it runs."""
MIN_HELD = 2
MAX_HELD = 128


class JobCost:
    """A moving average of how long recent jobs took in their process (seconds)."""

    def __init__(self, initial_s: float = 0.01, weight: float = 0.05) -> None:
        self.seconds = initial_s
        self.weight = weight

    def observe(self, seconds: float) -> None:
        self.seconds += self.weight * (max(seconds, 0.0) - self.seconds)

    def jobs_to_hold(self) -> int:
        """How many jobs a process should hold: `HELD_WORK_S` of work, within [MIN_HELD, MAX_HELD]."""
        return max(MIN_HELD, min(MAX_HELD, int(HELD_WORK_S / max(self.seconds, 1e-6))))


class JobQueue(Generic[Entry]):
    """Waiting jobs: one shared line, and one line per slot for the jobs that prefer that slot."""

    def __init__(self, slots: int) -> None:
        self._shared: collections.deque[Entry] = collections.deque()
        self._preferred: list[collections.deque[Entry]] = [collections.deque() for _ in range(slots)]
        self._waiters: dict[int, asyncio.Future[None]] = {}
        """Idle slots, by slot index: waiting for work, or woken and about to take it (so still idle for
        `share_for_idle`: two jobs for two idle slots go one each)."""

    def __len__(self) -> int:
        return len(self._shared) + sum(len(line) for line in self._preferred)

    @property
    def idle_slots(self) -> int:
        return len(self._waiters)

    def put(self, entry: Entry, slot_hint: int | None = None) -> None:
        if slot_hint is not None and 0 <= slot_hint < len(self._preferred):
            self._preferred[slot_hint].append(entry)
            if self._wake(slot_hint):
                return
        else:
            self._shared.append(entry)
        self._wake_any()

    def take(self, slot: int, limit: int) -> list[Entry]:
        """Up to `limit` jobs for `slot`: its preferred ones first, then the shared line, then other slots'."""
        taken: list[Entry] = []
        for line in self._lines_for(slot):
            while line and len(taken) < limit:
                taken.append(line.popleft())
            if len(taken) >= limit:
                break
        return taken

    def share_for_idle(self, slot: int) -> int:
        """How many jobs an idle `slot` may take now: an even share with the other idle slots."""
        return max(1, math.ceil(len(self) / max(1, self.idle_slots + 1)))

    def spare_for_busy(self) -> int:
        """How many jobs a busy slot may add to what it holds: what the idle slots will not need."""
        return max(0, len(self) - self.idle_slots)

    async def wait(self, slot: int) -> None:
        """Until a job `slot` may take is waiting, or `wake(slot)` is called (the caller looks again)."""
        if self._has_work_for(slot):
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[slot] = waiter
        try:
            await waiter
        finally:
            if self._waiters.get(slot) is waiter:
                del self._waiters[slot]

    def wake(self, slot: int) -> None:
        """Wake `slot` if it is waiting, with or without work for it (e.g. its process has died)."""
        self._wake(slot)

    def _has_work_for(self, slot: int) -> bool:
        return any(self._lines_for(slot))

    def _lines_for(self, slot: int) -> list[collections.deque[Entry]]:
        others = [line for index, line in enumerate(self._preferred) if index != slot]
        return [self._preferred[slot], self._shared, *others]

    def _wake(self, slot: int) -> bool:
        waiter = self._waiters.get(slot)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
            return True
        return False

    def _wake_any(self) -> None:
        for slot in list(self._waiters):
            if self._wake(slot):
                return
