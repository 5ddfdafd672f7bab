"""The jobs a worker's scoring processes run, and what comes back: the types that cross the pool's pipe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rewardgym.protocol import Status


@dataclass(frozen=True)
class ScoreJob:
    env: str
    task: dict[str, Any]
    completion: str


@dataclass(frozen=True)
class GenerateJob:
    env: str
    seed: int
    index: int
    options: dict[str, Any]


@dataclass(frozen=True)
class StepJob:
    """A session's step: replay `actions` (the last one is the step played) from the game of (seed, options)."""

    env: str
    seed: int
    options: dict[str, Any]
    actions: list[str]


Job = ScoreJob | GenerateJob | StepJob


@dataclass(frozen=True)
class Outcome:
    """What a job produced. For scoring, `value` holds status/reward/components/details; for generation,
    prompt/task (or status/message when it failed)."""

    status: Status
    value: dict[str, Any]
    elapsed_ms: float
