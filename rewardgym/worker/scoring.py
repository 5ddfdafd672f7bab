"""Turning a scoring request (single, batch or groups) into results, by running its items in an `ItemPool`.

Results come back in request order whatever order the pool finishes them in.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rewardgym.worker.jobs import GenerateJob, Outcome, ScoreJob
from rewardgym.worker.pool import ItemPool
from rewardgym.protocol import (
    BatchRequest,
    EnvInfo,
    GroupsRequest,
    ScoreRequest,
    Status,
    TasksRequest,
    group_item_id,
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

    def deadline_s(self, env: str, requested: float | None) -> float:
        environment = self.envs[env]
        if requested is None:
            return environment.timeout_s
        return min(requested, environment.max_timeout_s)

    async def score(self, env: str, request: ScoreRequest) -> dict[str, Any]:
        """The response body for `request`, in the shape of the request."""
        deadline = self.deadline_s(env, request.timeout_s)
        if isinstance(request, GroupsRequest):
            items = [(group.task, completion, group_item_id(group.id, g, c))
                     for g, group in enumerate(request.groups) for c, completion in enumerate(group.completions)]
        elif isinstance(request, BatchRequest):
            items = [(item.task, item.completion, item.id) for item in request.items]
        else:
            items = [(request.task, request.completion, request.id)]
        outcomes = await asyncio.gather(*(self.pool.submit(ScoreJob(env, task, completion), deadline)
                                          for task, completion, _ in items))
        results = [self.result(env, item_id, outcome) for (_, _, item_id), outcome in zip(items, outcomes)]
        if isinstance(request, GroupsRequest):
            grouped, start = [], 0
            for group in request.groups:
                grouped.append({"id": group.id, "results": results[start:start + len(group.completions)]})
                start += len(group.completions)
            return {"groups": grouped}
        if isinstance(request, BatchRequest):
            return {"results": results}
        return results[0]

    def result(self, env: str, item_id: str | None, outcome: Outcome) -> dict[str, Any]:
        """A ScoreResult as a plain dict (the hot path skips model construction; tests check the schema)."""
        value = outcome.value
        scored = outcome.status in (Status.OK, Status.NO_ANSWER)
        details = value.get("details", {}) if scored else {"message": value.get("message", "")}
        return {
            "id": item_id,
            "reward": value["reward"] if scored else None,
            "status": outcome.status.value,
            "components": value.get("components", {}) if scored else {},
            "details": details,
            "env": env,
            "env_version": self.envs[env].version,
            "elapsed_ms": outcome.elapsed_ms,
        }

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
