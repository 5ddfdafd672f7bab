"""Turning a scoring request (single, batch or groups) into results, by running its items in an `ItemPool`.

Results come back in request order whatever order the pool finishes them in.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rewardgym.worker.jobs import GenerateJob, Outcome, ScoreJob
from rewardgym.worker.pool import ItemPool
from rewardgym.protocol import (
    SCORED_STATUSES,
    EnvInfo,
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


class FamilyScorer:
    """Scores requests for one family. Environment instances here serve the catalogue and deadlines only;
    all environment code that touches a completion runs in the pool's processes."""

    def __init__(self, family: Family, pool: ItemPool) -> None:
        self.family = family
        self.pool = pool
        self.envs: dict[str, Environment] = family.instantiate()
        self.catalogue: dict[str, EnvInfo] = {name: env.info(family.name) for name, env in self.envs.items()}

    async def score(self, env: str, request: ScoreRequest) -> list[dict[str, Any]]:
        """One result per item of `request`, in `request_items` order (`response_body` reshapes them)."""
        deadline = item_deadline_s(request.timeout_s, self.catalogue[env])
        items = request_items(request)
        outcomes = await asyncio.gather(*(self.pool.submit(ScoreJob(env, item.task, item.completion), deadline)
                                          for item in items))
        return [self.result(env, item.id, outcome) for item, outcome in zip(items, outcomes)]

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
