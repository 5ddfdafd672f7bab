"""A family with resources, for testing the lifecycle: `start` in the worker, `setup` in each scoring process,
`stop` when the worker stops. `stamp` scores 1 and reports what its environment was set up with."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rewardgym.registry import Family, FamilyResources
from rewardgym.sdk import Environment, Example, Score, TaskModel


class StampTask(TaskModel):
    pass


class StampResources(FamilyResources):
    def start(self) -> dict[str, Any]:
        table = Path(self.context.work_dir) / "table.txt"
        table.write_text("reference table")
        return {"table": str(table), "worker_pid": os.getpid(), "processes": self.context.processes}

    def stop(self) -> None:
        (Path(self.context.work_dir) / "stopped").write_text("yes")


class Stamp(Environment[StampTask]):
    name = "stamp"
    description = "Scores 1 and reports what setup() received, read in the scoring process."
    Task = StampTask

    def setup(self, resources: Any) -> None:
        self.resources = resources
        self.table = Path(resources["table"]).read_text()

    def close(self) -> None:
        (Path(self.resources["table"]).parent / f"closed-{os.getpid()}").write_text("closed")

    def score(self, task: StampTask, completion: str) -> Score:
        return Score(1.0, details={"resources": self.resources, "table": self.table, "pid": os.getpid()})

    def examples(self) -> list[Example[StampTask]]:
        return [Example(StampTask(), "anything")]


FAMILY = Family(name="stamp", environments=(Stamp,), resources=StampResources)
