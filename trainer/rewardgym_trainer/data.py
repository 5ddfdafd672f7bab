"""Where prompts come from: the server's task generator, or a JSONL file of `{"prompt": ..., "task": {...}}`."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from rewardgym_client import RewardClient


@dataclass(frozen=True)
class PromptTask:
    prompt: str
    task: dict[str, Any]


def server_tasks(client: RewardClient, env: str, n: int, seed: int, options: dict[str, Any]) -> list[PromptTask]:
    """`n` tasks from the environment's generator (deterministic for the environment version, seed and options)."""
    return [PromptTask(t.prompt, t.task) for t in client.tasks(env, n, seed=seed, options=options)]


def jsonl_records(path: str | Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        missing = [key for key in required if key not in record]
        if not isinstance(record, dict) or missing:
            raise ValueError(f"Expected keys {list(required)} on line {number} of {path}, missing {missing}")
        records.append(record)
    if not records:
        raise ValueError(f"Expected at least one record in {path}, got none")
    return records


def jsonl_tasks(path: str | Path) -> list[PromptTask]:
    return [PromptTask(r["prompt"], r["task"]) for r in jsonl_records(path, ("prompt", "task"))]


class PromptBatches:
    """Endless batches of distinct prompts: each epoch is a fresh shuffle; the position can be saved and restored."""

    def __init__(self, tasks: list[PromptTask], batch_size: int, seed: int) -> None:
        if batch_size > len(tasks):
            raise ValueError(f"Expected at most {len(tasks)} prompts per batch (the number of tasks), got {batch_size}")
        self.tasks, self.batch_size, self.seed = tasks, batch_size, seed
        self.drawn = 0

    def __iter__(self) -> Iterator[list[PromptTask]]:
        return self

    def __next__(self) -> list[PromptTask]:
        per_epoch = len(self.tasks) // self.batch_size
        epoch, index = divmod(self.drawn, per_epoch)
        order = list(range(len(self.tasks)))
        random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
        self.drawn += 1
        start = index * self.batch_size
        return [self.tasks[i] for i in order[start : start + self.batch_size]]
