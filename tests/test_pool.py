"""The process pool: hard deadlines, crashes, recycling. Uses the toy family, no HTTP."""

import asyncio
import os
import signal
import time

from rewardgym.worker.jobs import GenerateJob, ScoreJob
from rewardgym.worker.pool import ItemPool, PoolSettings
from rewardgym.protocol import Status

TOY = "tests.support.toy_family:FAMILY"


def job(completion: str, answer: str = "1") -> ScoreJob:
    return ScoreJob("toy_echo", {"answer": answer}, completion)


async def until(condition, timeout_s: float = 5.0) -> None:
    """Replacement of a process happens just after its item is answered; wait for it."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def started(**settings) -> ItemPool:
    pool = ItemPool(TOY, PoolSettings(**{"processes": 2, **settings}))
    await pool.start()
    return pool


async def test_results_and_failures_are_kept_apart():
    pool = await started()
    try:
        outcomes = await asyncio.gather(*(pool.submit(job(c), 1.0) for c in ["1", "2", "", "!raise", "!crash"]))
        assert [o.status for o in outcomes] == [Status.OK, Status.OK, Status.NO_ANSWER, Status.ERROR, Status.ERROR]
        assert [o.value.get("reward") for o in outcomes[:3]] == [1.0, 0.0, 0.0]
        assert "RuntimeError: boom" in outcomes[3].value["message"]
        assert "exit code 3" in outcomes[4].value["message"]
        invalid = await pool.submit(ScoreJob("toy_echo", {"wrong_field": 1}, "1"), 1.0)
        assert invalid.status is Status.INVALID_TASK and "answer" in invalid.value["message"]
        marked = await pool.submit(job("1", answer="!invalid"), 1.0)
        assert marked.status is Status.INVALID_TASK
    finally:
        await pool.close()


async def test_a_hanging_item_is_killed_at_its_deadline_and_the_rest_are_scored():
    pool = await started()
    try:
        pids_before = set(pool.pids())
        started_at = time.monotonic()
        outcomes = await asyncio.gather(pool.submit(job("!sleep 60"), 1.0), *(pool.submit(job("1"), 1.0) for _ in range(50)))
        elapsed = time.monotonic() - started_at
        assert outcomes[0].status is Status.TIMEOUT and outcomes[0].value["message"].startswith("item exceeded")
        assert all(o.status is Status.OK and o.value["reward"] == 1.0 for o in outcomes[1:])
        assert elapsed < 2.5
        assert (await pool.submit(job("1"), 1.0)).status is Status.OK
        await until(lambda: len(set(pool.pids()) - pids_before) == 1)
        assert pool.replaced == 1
    finally:
        await pool.close()


async def test_processes_are_recycled_after_n_items():
    pool = await started(processes=1, max_items_per_process=5)
    try:
        first = pool.pids()
        for _ in range(5):
            assert (await pool.submit(job("1"), 1.0)).status is Status.OK
        await until(lambda: pool.pids() != first)
        assert pool.replaced == 1
    finally:
        await pool.close()


async def test_memory_runaway_is_bounded_and_reported_as_error():
    pool = await started(processes=1, address_space_limit_mb=1024)
    try:
        outcome = await pool.submit(job("!memory"), 5.0)
        assert outcome.status is Status.ERROR and outcome.value["message"] == "scoring ran out of memory"
        assert (await pool.submit(job("1"), 1.0)).status is Status.OK
    finally:
        await pool.close()


async def test_processes_grown_past_the_rss_limit_are_recycled():
    pool = await started(processes=1, max_rss_mb=1)
    try:
        first = pool.pids()
        assert (await pool.submit(job("1"), 1.0)).status is Status.OK
        await until(lambda: pool.pids() != first)
        assert pool.replaced == 1
    finally:
        await pool.close()


async def test_generation_is_a_pure_function_of_seed_and_index():
    pool = await started()
    try:
        a, b, c = await asyncio.gather(pool.submit(GenerateJob("toy_echo", 7, 0, {}), 5), pool.submit(
            GenerateJob("toy_echo", 7, 0, {}), 5), pool.submit(GenerateJob("toy_echo", 7, 1, {}), 5))
        assert a.value == b.value and a.value != c.value
        bad = await pool.submit(GenerateJob("toy_echo", 7, 0, {"difficulty": "extreme"}), 5)
        assert bad.status is Status.INVALID_TASK and "difficulty" in bad.value["message"]
    finally:
        await pool.close()


async def test_jobs_queued_behind_a_killed_job_are_run_elsewhere_not_failed():
    pool = await started(processes=1)
    try:
        outcomes = await asyncio.gather(pool.submit(job("!sleep 60"), 0.5), *(pool.submit(job("1"), 0.5) for _ in range(5)))
        assert [o.status for o in outcomes] == [Status.TIMEOUT] + [Status.OK] * 5
        crash = await asyncio.gather(pool.submit(job("!crash"), 1.0), *(pool.submit(job("1"), 1.0) for _ in range(5)))
        assert [o.status for o in crash] == [Status.ERROR] + [Status.OK] * 5
    finally:
        await pool.close()


async def test_a_small_request_is_spread_over_idle_processes():
    pool = await started()
    try:
        started_at = time.monotonic()
        outcomes = await asyncio.gather(pool.submit(job("!sleep 0.5"), 2), pool.submit(job("!sleep 0.5"), 2))
        assert all(o.status is Status.OK for o in outcomes) and time.monotonic() - started_at < 0.9
    finally:
        await pool.close()


async def test_closing_the_pool_leaves_no_process_behind():
    pool = await started()
    pids = pool.pids()
    await pool.close()
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


async def test_a_batch_of_cheap_jobs_comes_back_in_order_with_its_failures_in_place():
    pool = await started()
    try:
        completions = [str(i % 3) if i % 97 else "!crash" for i in range(600)] + ["!sleep 60"]
        outcomes = await pool.submit_many([job(c, answer="1") for c in completions], 1.0)
        assert len(outcomes) == len(completions)
        for completion, outcome in zip(completions, outcomes):
            if completion == "!crash":
                assert outcome.status is Status.ERROR
            elif completion == "!sleep 60":
                assert outcome.status is Status.TIMEOUT
            else:
                assert outcome.status is Status.OK and outcome.value["reward"] == float(completion == "1")
        assert {o.slot for o in outcomes if o.status is Status.OK} == {0, 1}  # spread over both processes
        assert await pool.submit_many([], 1.0) == []
    finally:
        await pool.close()


async def test_a_job_prefers_the_slot_it_is_hinted_to_when_that_slot_is_free():
    pool = await started()
    try:
        for slot in (0, 1, 1, 0):
            assert (await pool.submit(job("1"), 1.0, slot_hint=slot)).slot == slot
    finally:
        await pool.close()


async def test_a_process_killed_while_idle_is_replaced_before_the_next_job():
    pool = await started(processes=1)
    try:
        assert (await pool.submit(job("1"), 5.0)).status is Status.OK
        killed = pool.pids()
        os.kill(killed[0], signal.SIGKILL)
        await until(lambda: pool.replaced == 1 and pool.pids() and pool.pids() != killed)  # no job needed
        outcome = await pool.submit(job("1"), 5.0)
        assert outcome.status is Status.OK, outcome
    finally:
        await pool.close()
