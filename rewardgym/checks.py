"""`check_env`: the contract every registered environment must pass (run over the whole registry by one test).

It checks what prose cannot enforce: the task model round-trips through JSON, the worked examples score what
they claim, generation is a pure function of the seed, and each generated task's own solution scores 1.
"""

from __future__ import annotations

import json
import typing

from rewardgym.protocol import EnvInfo, Status
from rewardgym.sdk import Environment, Score, TaskModel, task_rng


class EnvCheckError(AssertionError):
    """An environment breaks the SDK contract; the message says how and where to fix it."""


def check_env(env: Environment, seeds: int = 20) -> None:
    """Raise `EnvCheckError` on the first broken rule."""
    _check_declaration(env)
    for example in env.examples():
        _check_round_trip(env, example.task)
        score = _score(env, example.task, example.completion)
        if abs(score.reward - example.reward) > 1e-9:
            raise EnvCheckError(f"{env.name}: example expected reward {example.reward}, got {score.reward} "
                                f"for completion {example.completion[:80]!r}")
    if not env.generates_tasks():
        return
    difficulties = typing.get_args(env.Options.model_fields["difficulty"].annotation) or ("medium",)
    for difficulty in difficulties:
        options = env.Options(difficulty=difficulty)
        for seed in range(seeds):
            first = env.generate(task_rng(env.name, seed, 0), options)
            again = env.generate(task_rng(env.name, seed, 0), options)
            if (first.prompt, first.task) != (again.prompt, again.task):
                raise EnvCheckError(f"{env.name}: seed {seed} gave two different tasks; generate() must use only "
                                    "the rng it is given")
            _check_round_trip(env, first.task)
            score = _score(env, first.task, first.solution)
            if score.reward != 1.0:
                raise EnvCheckError(f"{env.name}: generated solution scored {score.reward}, expected 1.0 "
                                    f"(difficulty {difficulty}, seed {seed}, task {first.task!r}, "
                                    f"solution {first.solution[:200]!r}, details {score.details})")


def _check_declaration(env: Environment) -> None:
    for attribute in ("name", "version", "description"):
        if not getattr(env, attribute, ""):
            raise EnvCheckError(f"{type(env).__name__}: expected a non-empty class attribute {attribute!r}")
    if not (isinstance(env.Task, type) and issubclass(env.Task, TaskModel)):
        raise EnvCheckError(f"{env.name}: expected Task to be a TaskModel subclass, got {env.Task!r}")
    if not 0 < env.timeout_s <= env.max_timeout_s:
        raise EnvCheckError(f"{env.name}: expected 0 < timeout_s <= max_timeout_s, got "
                            f"{env.timeout_s} and {env.max_timeout_s}")
    info = env.info("check")
    EnvInfo.model_validate_json(info.model_dump_json())
    json.dumps(info.task_schema)


def _check_round_trip(env: Environment, task: TaskModel) -> None:
    payload = json.loads(json.dumps(task.model_dump(mode="json")))
    if env.parse_task(payload) != task:
        raise EnvCheckError(f"{env.name}: task {task!r} does not survive a JSON round trip")


def _score(env: Environment, task: TaskModel, completion: str) -> Score:
    score = env.score(task, completion)
    if not isinstance(score, Score):
        raise EnvCheckError(f"{env.name}: expected score() to return a Score, got {type(score).__name__}")
    if score.status not in (Status.OK, Status.NO_ANSWER):
        raise EnvCheckError(f"{env.name}: unexpected status {score.status}")
    return score
