"""verl's custom reward function, scored by a rewardgym server.

In the verl config:

    custom_reward_function.path=<site-packages>/rewardgym_client/verl.py
    custom_reward_function.name=compute_score          # or compute_score_batch with reward_model.reward_manager=batch
    +custom_reward_function.reward_kwargs.url=http://127.0.0.1:8000   # or $REWARDGYM_URL; a token: $REWARDGYM_TOKEN

verl's reward managers call `compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)` for
each response (`NaiveRewardManager`), or `compute_score(data_sources=..., solution_strs=..., ground_truths=...,
extra_infos=...)` once per batch (`BatchRewardManager`), with `reward_kwargs` added as keyword arguments. Both
forms return dicts with the same keys every time: `score` (the reward), `acc` (1.0 when the reward is 1.0) and
`null` (1.0 when the server gave no reward). verl's reward tensor cannot hold a missing value, so a null reward
raises `RewardUnavailable` unless `null_score` says what number to use instead (a choice that biases the group
baseline: make it knowingly).

Routing: the environment is `routes[data_source]`, else `extra_info["env"]`, else `default_env`, else the
data_source itself. The task is `extra_info["task"]` when given, else the ground truth read as a task object, its
JSON, or a bare gold answer (`{"answer": ground_truth}`).
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from rewardgym.protocol import ScoreResult

from rewardgym_client.errors import RewardGymError
from rewardgym_client.labels import task_from_label
from rewardgym_client.sync import RewardClient

DEFAULT_URL_VARIABLE = "REWARDGYM_URL"
TOKEN_VARIABLE = "REWARDGYM_TOKEN"


class RewardUnavailable(RewardGymError):
    """The server gave no reward for a response (timeout, error, invalid task) and no `null_score` was set."""


class VerlScorer:
    def __init__(self, url: str | None = None, *, routes: Mapping[str, str] | None = None,
                 default_env: str | None = None, null_score: float | None = None,
                 client: RewardClient | None = None, **client_options: Any) -> None:
        url = url or os.environ.get(DEFAULT_URL_VARIABLE, "http://127.0.0.1:8000")
        self.client = client or RewardClient(url, **client_options)
        self.routes = dict(routes or {})
        self.default_env = default_env
        self.null_score = null_score

    def env_of(self, data_source: str, extra_info: Mapping[str, Any] | None) -> str:
        if data_source in self.routes:
            return self.routes[data_source]
        if extra_info and extra_info.get("env"):
            return str(extra_info["env"])
        return self.default_env or str(data_source)

    def item(self, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None) -> dict[str, Any]:
        task = extra_info.get("task") if extra_info else None
        return {"completion": solution_str, "task": task_from_label(task if task is not None else ground_truth)}

    def verdict(self, result: ScoreResult) -> dict[str, float]:
        if result.reward is None:
            if self.null_score is None:
                message = result.details.get("message", "")
                raise RewardUnavailable(f"Expected a reward from {result.env}, got status {result.status.value}: "
                                        f"{message} (set null_score to use a number instead)")
            return {"score": float(self.null_score), "acc": 0.0, "null": 1.0}
        return {"score": result.reward, "acc": float(result.reward == 1.0), "null": 0.0}

    def __call__(self, data_source: str, solution_str: str, ground_truth: Any,
                 extra_info: Mapping[str, Any] | None = None, **_: Any) -> dict[str, float]:
        item = self.item(solution_str, ground_truth, extra_info)
        return self.verdict(self.client.score(self.env_of(data_source, extra_info), item["task"], item["completion"]))

    def batch(self, data_sources: Sequence[str], solution_strs: Sequence[str], ground_truths: Sequence[Any],
              extra_infos: Sequence[Mapping[str, Any] | None] | None = None, **_: Any) -> list[dict[str, float]]:
        """One request per environment present in the batch; verdicts in the batch's order."""
        extras = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
        if not len(data_sources) == len(solution_strs) == len(ground_truths) == len(extras):
            raise ValueError(f"Expected equal lengths, got {len(data_sources)} data_sources, {len(solution_strs)} "
                             f"solution_strs, {len(ground_truths)} ground_truths and {len(extras)} extra_infos")
        by_env: dict[str, list[int]] = {}
        for index, (source, extra) in enumerate(zip(data_sources, extras)):
            by_env.setdefault(self.env_of(source, extra), []).append(index)
        verdicts: list[dict[str, float]] = [{} for _ in solution_strs]
        for env, indices in by_env.items():
            items = [self.item(solution_strs[i], ground_truths[i], extras[i]) for i in indices]
            for index, result in zip(indices, self.client.score_batch(env, items)):
                verdicts[index] = self.verdict(result)
        return verdicts


_scorers: dict[tuple[Any, ...], VerlScorer] = {}


def _scorer(url: str | None, routes: Mapping[str, str] | None, default_env: str | None,
            null_score: float | None, token: str | None) -> VerlScorer:
    """One scorer (and connection pool) per configuration, reused across verl's many calls in a process."""
    token = token or os.environ.get(TOKEN_VARIABLE) or None
    key = (url, tuple(sorted((routes or {}).items())), default_env, null_score, token)
    if key not in _scorers:
        _scorers[key] = VerlScorer(url, routes=routes, default_env=default_env, null_score=null_score, token=token)
    return _scorers[key]


def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None,
                  *, url: str | None = None, routes: Mapping[str, str] | None = None, default_env: str | None = None,
                  null_score: float | None = None, token: str | None = None, **kwargs: Any) -> dict[str, float]:
    """verl's per-response form (`NaiveRewardManager`)."""
    return _scorer(url, routes, default_env, null_score, token)(data_source, solution_str, ground_truth, extra_info)


def compute_score_batch(data_sources: Sequence[str], solution_strs: Sequence[str], ground_truths: Sequence[Any],
                        extra_infos: Sequence[Mapping[str, Any] | None] | None = None, *, url: str | None = None,
                        routes: Mapping[str, str] | None = None, default_env: str | None = None,
                        null_score: float | None = None, token: str | None = None, **kwargs: Any
                        ) -> list[dict[str, float]]:
    """verl's batched form (`BatchRewardManager`)."""
    return _scorer(url, routes, default_env, null_score, token).batch(data_sources, solution_strs, ground_truths,
                                                                      extra_infos)
