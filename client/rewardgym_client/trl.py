"""A reward function for TRL's `GRPOTrainer`, scored by a rewardgym server.

    from rewardgym_client.trl import TRLReward
    trainer = GRPOTrainer(model=..., reward_funcs=[TRLReward("gsm8k", "http://127.0.0.1:8000")],
                          train_dataset=dataset_with_a_task_column, ...)

TRL calls a reward function as `f(prompts=..., completions=..., completion_ids=..., **columns)`, where `columns`
are the dataset's other columns, one value per completion (TRL 1.16, `GRPOTrainer._calculate_rewards`). The task
comes from the column `task_column`: a task object, its JSON, or a bare gold answer (`{"answer": value}`).
Completions may be plain strings or conversations (the last message is scored). The result holds `None` where the
server gave no reward (timeout, error, invalid task): TRL turns it into NaN and leaves it out of the group's
statistics, which is exactly what a null reward means. Consecutive completions of the same task are sent as one
group, so a GRPO group travels in one request.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from rewardgym_client.aio import AsyncRewardClient
from rewardgym_client.labels import completion_text, task_from_label
from rewardgym_client.sync import RewardClient


def build_groups(completions: Sequence[Any], labels: Sequence[Any]) -> list[dict[str, Any]]:
    """Runs of consecutive completions with the same task, as `score_groups` groups (order kept)."""
    if len(completions) != len(labels):
        raise ValueError(f"Expected one task per completion, got {len(labels)} tasks for {len(completions)}")
    groups: list[dict[str, Any]] = []
    previous_key = None
    for completion, label in zip(completions, labels):
        task = task_from_label(label)
        key = json.dumps(task, sort_keys=True, default=str)
        if groups and key == previous_key:
            groups[-1]["completions"].append(completion_text(completion))
        else:
            groups.append({"task": task, "completions": [completion_text(completion)]})
        previous_key = key
    return groups


def _labels(kwargs: dict[str, Any], column: str) -> Sequence[Any]:
    if column not in kwargs:
        columns = sorted(k for k in kwargs if k not in ("trainer_state", "log_extra", "log_metric", "completion_ids"))
        raise ValueError(f"Expected a dataset column {column!r} holding each prompt's task, got columns {columns}")
    return kwargs[column]


class TRLReward:
    """Synchronous reward function (one `score_groups` call per TRL batch)."""

    def __init__(self, env: str, url: str = "http://127.0.0.1:8000", *, task_column: str = "task",
                 client: RewardClient | None = None, **client_options: Any) -> None:
        self.env = env
        self.task_column = task_column
        self.client = client or RewardClient(url, **client_options)
        self.__name__ = f"rewardgym_{env}"  # TRL names the logged reward after the function

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        groups = build_groups(completions, _labels(kwargs, self.task_column))
        return [result.reward for group in self.client.score_groups(self.env, groups) for result in group]


class AsyncTRLReward:
    """The same, awaited: TRL runs async reward functions concurrently with the others on its event loop."""

    def __init__(self, env: str, url: str = "http://127.0.0.1:8000", *, task_column: str = "task",
                 client: AsyncRewardClient | None = None, **client_options: Any) -> None:
        self.env = env
        self.task_column = task_column
        self._client = client
        self._options = (url, client_options)
        self.__name__ = f"rewardgym_{env}"

    async def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
                       ) -> list[float | None]:
        groups = build_groups(completions, _labels(kwargs, self.task_column))
        if self._client is None:  # created on first use, inside the loop that will run every later call
            url, options = self._options
            self._client = AsyncRewardClient(url, **options)
        results = await self._client.score_groups(self.env, groups)
        return [result.reward for group in results for result in group]
