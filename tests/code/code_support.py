"""Helpers shared by the code family's tests (a unique module name: test dirs are not packages)."""

from __future__ import annotations

from typing import Any

from rewardgym.worker.execution import FamilyExecutor
from rewardgym.worker.jobs import ScoreJob
from rewardgym.protocol import Status
from rewardgym.sdk import Environment, Score


def score(env: Environment, task: dict[str, Any], completion: str) -> Score:
    """Parse the task as the worker does, then score."""
    return env.score(env.parse_task(task), completion)


def executed(env: Environment, task: dict[str, Any], completion: str) -> tuple[Status, dict[str, Any]]:
    """Score through the worker's executor: exceptions become statuses there, as in production."""
    return FamilyExecutor({env.name: env}).score(env, ScoreJob(env.name, task, completion))


def fenced(tag: str, source: str) -> str:
    return f"Here is my solution.\n\n```{tag}\n{source}\n```\n"
