"""Identical (task, completion) items of one request are scored once; every copy gets the verdict and its own id."""

from __future__ import annotations

from rewardgym.protocol import parse_score_request, request_items
from rewardgym.registry import load_family
from rewardgym.worker.app import running_pool
from rewardgym.worker.pool import ItemPool, PoolSettings
from rewardgym.worker.scoring import FamilyScorer, unique_jobs

SPEC = "tests.support.toy_family:FAMILY"


def test_unique_jobs_merges_equal_tasks_and_completions_only():
    request = parse_score_request({"groups": [
        {"id": "p", "task": {"answer": "4"}, "completions": ["4", "5", "4", "4", "5"]},
        {"id": "q", "task": {"answer": "4"}, "completions": ["4"]},  # an equal task in another group merges too
        {"id": "r", "task": {"answer": "5"}, "completions": ["4"]},
    ]})
    jobs, job_of_item = unique_jobs("toy_echo", request_items(request))
    assert [(job.task, job.completion) for job in jobs] == [({"answer": "4"}, "4"), ({"answer": "4"}, "5"),
                                                            ({"answer": "5"}, "4")]
    assert job_of_item == [0, 1, 0, 0, 1, 0, 2]


def test_a_task_too_deep_to_serialise_is_never_merged():
    deep: dict = {}
    node = deep
    for _ in range(5000):
        node["x"] = {}
        node = node["x"]
    items = request_items(parse_score_request({"items": [{"task": {"answer": "a"}, "completion": "a"}]}))
    items = [items[0]._replace(task=deep), items[0]._replace(task=deep)]
    jobs, job_of_item = unique_jobs("toy_echo", items)
    assert len(jobs) == 2 and job_of_item == [0, 1]


async def test_duplicates_are_scored_once_and_each_copy_keeps_its_id():
    family = load_family(SPEC)
    pool = ItemPool(SPEC, PoolSettings(processes=1))
    async with running_pool(family, pool):
        scorer = FamilyScorer(family, pool)
        submitted = []
        submit_many = pool.submit_many
        pool.submit_many = lambda jobs, deadline: submitted.extend(jobs) or submit_many(jobs, deadline)  # type: ignore
        request = parse_score_request({"groups": [{"id": "g", "task": {"answer": "4"},
                                                   "completions": ["4", "x", "4", "4", "x", "4"]}]})
        results = await scorer.score("toy_echo", request)
    assert len(submitted) == 2
    assert [r["id"] for r in results] == [f"g#{i}" for i in range(6)]
    assert [r["reward"] for r in results] == [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
