"""Per-test limits: the defaults, the maxima a task may ask for, and the job fields they become.

The sandbox enforces them per test (CPU time from `wait4`, wall time as a backstop, memory, output); the item
deadline of an environment (`timeout_s`) only has to cover the sum of its tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from rewardgym.sdk import InvalidTask, TaskModel
from rewardgym_sandboxes.results import TestSpec
from rewardgym_sandboxes.supervisor.protocol import (  # the sandbox's limits are the one source of these numbers
    DEFAULT_COMPILE_TIME_LIMIT_S as COMPILE_TIME_LIMIT_S,
    DEFAULT_MEMORY_LIMIT_MB,
    DEFAULT_OUTPUT_LIMIT_BYTES as OUTPUT_LIMIT_BYTES,
    DEFAULT_TIME_LIMIT_S,
    MAX_MEMORY_LIMIT_MB,
    MAX_TIME_LIMIT_S,
    WALL_FACTOR,
)

__all__ = ["COMPILE_TIME_LIMIT_S", "MAX_TESTS", "MAX_TIME_LIMIT_S", "LimitedTask", "Limits"]

MIN_MEMORY_LIMIT_MB = 16
MAX_TESTS = 1000
"""Tests per task (the sandbox takes more per job; a task past this is refused as invalid)."""


class LimitedTask(TaskModel):
    """Fields shared by every code task: the per-test limits it may raise, up to the maxima."""

    time_limit_s: float = Field(DEFAULT_TIME_LIMIT_S, gt=0,
                                description=f"CPU seconds per test, at most {MAX_TIME_LIMIT_S:g} (wall: x{WALL_FACTOR:g})")
    memory_limit_mb: int = Field(DEFAULT_MEMORY_LIMIT_MB, ge=MIN_MEMORY_LIMIT_MB,
                                 description=f"memory per test in MB, at most {MAX_MEMORY_LIMIT_MB}")


@dataclass(frozen=True)
class Limits:
    time_limit_s: float
    memory_limit_mb: int

    @classmethod
    def of(cls, task: LimitedTask) -> "Limits":
        """The task's limits; a value above its maximum is the task's fault (`InvalidTask`)."""
        if task.time_limit_s > MAX_TIME_LIMIT_S:
            raise InvalidTask(f"Expected time_limit_s <= {MAX_TIME_LIMIT_S:g}, got {task.time_limit_s:g}")
        if task.memory_limit_mb > MAX_MEMORY_LIMIT_MB:
            raise InvalidTask(f"Expected memory_limit_mb <= {MAX_MEMORY_LIMIT_MB}, got {task.memory_limit_mb}")
        return cls(task.time_limit_s, task.memory_limit_mb)

    def test(self, stdin: str) -> TestSpec:
        """One test of a sandbox job (sandboxes/README.md)."""
        return TestSpec(stdin=stdin, time_limit_s=self.time_limit_s, wall_limit_s=self.time_limit_s * WALL_FACTOR,
                        memory_limit_mb=self.memory_limit_mb, output_limit_bytes=OUTPUT_LIMIT_BYTES)
