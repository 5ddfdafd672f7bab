"""How waiting jobs are shared among scoring slots (rewardgym/worker/dispatch.py)."""

import asyncio

from rewardgym.worker.dispatch import MAX_HELD, MIN_HELD, JobCost, JobQueue


def test_cheap_jobs_are_held_many_at_a_time_and_slow_ones_two():
    cost = JobCost()
    for _ in range(500):
        cost.observe(30e-6)
    assert cost.jobs_to_hold() > 50
    for _ in range(500):
        cost.observe(0.5)
    assert cost.jobs_to_hold() == MIN_HELD
    for _ in range(500):
        cost.observe(0.0)
    assert cost.jobs_to_hold() == MAX_HELD


def test_preferred_jobs_go_first_then_shared_then_other_slots_jobs():
    queue: JobQueue[str] = JobQueue(2)
    queue.put("shared")
    queue.put("for-1", slot_hint=1)
    queue.put("for-0", slot_hint=0)
    assert queue.take(1, 1) == ["for-1"]
    assert queue.take(1, 5) == ["shared", "for-0"]
    assert len(queue) == 0


def test_an_unknown_slot_hint_is_the_shared_line():
    queue: JobQueue[str] = JobQueue(2)
    queue.put("x", slot_hint=7)
    assert queue.take(0, 1) == ["x"]


async def test_two_jobs_for_two_idle_slots_go_one_each():
    queue: JobQueue[str] = JobQueue(2)
    taken: dict[int, list[str]] = {}

    async def slot(index: int) -> None:
        await queue.wait(index)
        taken[index] = queue.take(index, queue.share_for_idle(index))

    slots = [asyncio.create_task(slot(0)), asyncio.create_task(slot(1))]
    await asyncio.sleep(0)
    queue.put("a")
    queue.put("b")
    await asyncio.gather(*slots)
    assert sorted(len(jobs) for jobs in taken.values()) == [1, 1]


async def test_a_busy_slot_leaves_the_idle_slots_their_share():
    queue: JobQueue[str] = JobQueue(2)
    for name in "abc":
        queue.put(name)
    assert queue.spare_for_busy() == 3  # nobody idle
    queue.take(1, 3)
    idle = asyncio.create_task(queue.wait(1))
    await asyncio.sleep(0)
    queue.put("d")
    queue.put("e")
    assert queue.spare_for_busy() == 1  # slot 1 is woken but has not taken its share yet
    await idle
