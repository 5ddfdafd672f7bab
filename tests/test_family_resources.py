"""A family's resources are started once in the worker, handed to every scoring process's environments through
`Environment.setup`, and stopped with the worker (docs/architecture.md, "Family resources")."""

from __future__ import annotations

import os

from rewardgym.registry import load_family
from rewardgym.worker.app import running_pool
from rewardgym.worker.jobs import ScoreJob
from rewardgym.worker.pool import ItemPool, PoolSettings

SPEC = "tests.support.resource_family:FAMILY"


async def test_resources_start_in_the_worker_reach_setup_in_scoring_processes_and_stop(tmp_path):
    family = load_family(SPEC)
    work_dir = tmp_path / "work"
    async with running_pool(family, ItemPool(SPEC, PoolSettings(processes=2)), str(work_dir)) as pool:
        outcomes = [await pool.submit(ScoreJob("stamp", {}, "x"), 10.0) for _ in range(4)]
        assert not (work_dir / "stopped").exists()
    assert (work_dir / "stopped").read_text() == "yes"
    closed = {path.name.removeprefix("closed-") for path in work_dir.glob("closed-*")}
    assert {str(outcome.value["details"]["pid"]) for outcome in outcomes} <= closed  # each process ran `close`
    for outcome in outcomes:
        details = outcome.value["details"]
        assert details["resources"] == {"table": str(work_dir / "table.txt"), "worker_pid": os.getpid(),
                                        "processes": 2}
        assert details["table"] == "reference table" and details["pid"] != os.getpid()


async def test_a_family_without_resources_hands_none(tmp_path):
    family = load_family("tests.support.toy_family:FAMILY")
    async with running_pool(family, ItemPool("tests.support.toy_family:FAMILY", PoolSettings(processes=1)),
                            str(tmp_path)) as pool:
        outcome = await pool.submit(ScoreJob("toy_echo", {"answer": "a"}, "a"), 10.0)
    assert outcome.value["reward"] == 1.0
