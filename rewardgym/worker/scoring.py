"""Turning a scoring request (single, batch or groups) into results, by running its items in an `ItemPool`.

Results come back in request order whatever order the pool finishes them in.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from rewardgym import json_codec
from rewardgym.worker.jobs import GenerateJob, Outcome, ScoreJob
from rewardgym.worker.pool import ItemPool
from rewardgym.protocol import (
    SCORED_STATUSES,
    EnvInfo,
    RequestItem,
    ScoreRequest,
    Status,
    TasksRequest,
    item_deadline_s,
    request_items,
    result_body,
)
from rewardgym.registry import Family
from rewardgym.sdk import Environment


class GenerationFailed(Exception):
    """A task could not be generated: bad options (`invalid`) or a generator fault."""

    def __init__(self, message: str, invalid: bool) -> None:
        super().__init__(message)
        self.invalid = invalid


def unique_jobs(env: str, items: list[RequestItem]) -> tuple[list[ScoreJob], list[int]]:
    """One job per distinct (task, completion), and for each item the index of its job.

    Only items whose completion text repeats can be identical, so only their tasks are written out as keys (a
    batch of distinct completions, the usual case, costs one pass over the completions)."""
    repeated = {completion for completion, count in Counter(item.completion for item in items).items()
                if count > 1}
    jobs: list[ScoreJob] = []
    job_of_item: list[int] = []
    index_of: dict[tuple[bytes, str], int] = {}
    task_keys: dict[int, bytes | None] = {}  # a group's items share one task object: serialise it once
    for item in items:
        key = None
        if item.completion in repeated:
            if id(item.task) not in task_keys:
                task_keys[id(item.task)] = _task_key(item.task)
            task_key = task_keys[id(item.task)]
            key = (task_key, item.completion) if task_key is not None else None
        if key is not None and key in index_of:
            job_of_item.append(index_of[key])
            continue
        if key is not None:
            index_of[key] = len(jobs)
        job_of_item.append(len(jobs))
        jobs.append(ScoreJob(env, item.task, item.completion))
    return jobs, job_of_item


def _task_key(task: dict[str, Any]) -> bytes | None:
    """A canonical text of `task`, or None when it has none (nested too deeply: then it is never merged)."""
    try:
        return json_codec.dumps(task, _sorted_json, sort_keys=True)
    except (RecursionError, ValueError, TypeError):
        return None


def _sorted_json(task: dict[str, Any]) -> bytes:
    return json.dumps(task, sort_keys=True, separators=(",", ":")).encode("utf-8", "surrogatepass")


class FamilyScorer:
    """Scores requests for one family. Environment instances here serve the catalogue and deadlines only;
    all environment code that touches a completion runs in the pool's processes."""

    def __init__(self, family: Family, pool: ItemPool) -> None:
        self.family = family
        self.pool = pool
        self.envs: dict[str, Environment] = family.instantiate()
        self.catalogue: dict[str, EnvInfo] = {name: env.info(family.name) for name, env in self.envs.items()}

    async def score(self, env: str, request: ScoreRequest) -> list[dict[str, Any]]:
        """One result per item of `request`, in `request_items` order (`response_body` reshapes them).

        Identical (task, completion) items of one request are scored once and the verdict copied, each copy
        with its own id: GRPO groups often hold the same completion several times, and scoring is pure."""
        deadline = item_deadline_s(request.timeout_s, self.catalogue[env])
        items = request_items(request)
        jobs, job_of_item = unique_jobs(env, items)
        outcomes = await self.pool.submit_many(jobs, deadline)
        return [self.result(env, item.id, outcomes[job]) for item, job in zip(items, job_of_item)]

    def result(self, env: str, item_id: str | None, outcome: Outcome) -> dict[str, Any]:
        value = outcome.value
        scored = outcome.status in SCORED_STATUSES
        return result_body(
            item_id=item_id, env=env, env_version=self.envs[env].version, status=outcome.status,
            reward=value["reward"] if scored else None,
            components=value.get("components", {}) if scored else {},
            details=value.get("details", {}) if scored else {"message": value.get("message", "")},
            elapsed_ms=outcome.elapsed_ms,
        )

    async def generate(self, env: str, request: TasksRequest) -> dict[str, Any]:
        environment = self.envs[env]
        outcomes = await asyncio.gather(*(
            self.pool.submit(GenerateJob(env, request.seed, index, request.options), environment.max_timeout_s)
            for index in range(request.n)
        ))
        for outcome in outcomes:
            if outcome.status is not Status.OK:
                raise GenerationFailed(outcome.value.get("message", "generation failed"),
                                       invalid=outcome.status is Status.INVALID_TASK)
        return {
            "env": env,
            "env_version": environment.version,
            "seed": request.seed,
            "tasks": [{"prompt": o.value["prompt"], "task": o.value["task"]} for o in outcomes],
        }
