"""`check_env`: the contract every registered environment must pass (run over the whole registry by one test).

It checks what prose cannot enforce: the task model round-trips through JSON, the worked examples score what
they claim, generation is a pure function of the seed, and each generated task's own solution scores 1.
"""

from __future__ import annotations

import json
import typing

from rewardgym.multiturn import MultiTurnEnvironment, parse_actions
from rewardgym.protocol import EnvInfo, Status
from rewardgym.sdk import Environment, Score, TaskModel, task_rng


class EnvCheckError(AssertionError):
    """An environment breaks the SDK contract; the message says how and where to fix it."""


def check_env(env: Environment, seeds: int = 20) -> None:
    """Raise `EnvCheckError` on the first broken rule."""
    _check_declaration(env)
    if isinstance(env, MultiTurnEnvironment):
        check_multi_turn(env, seeds=min(seeds, 3))
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


def check_multi_turn(env: MultiTurnEnvironment, seeds: int = 3) -> None:
    """A multi-turn env passes gymnasium's own checker, and a transcript scores what playing it step by step gives:
    the same final observation and total reward by `step`, `replay` and `score`, in either transcript format."""
    from gymnasium.utils.env_checker import check_env as gymnasium_check_env  # the families bring gymnasium

    if env.info("check").kind != "multi":
        raise EnvCheckError(f"{env.name}: expected catalogue kind 'multi', got {env.info('check').kind!r}")
    try:
        gymnasium_check_env(env.make(), skip_render_check=True)
    except AssertionError as exc:
        raise EnvCheckError(f"{env.name}: gymnasium's env checker: {exc}") from exc
    difficulties = typing.get_args(env.Options.model_fields["difficulty"].annotation) or ("medium",)
    for difficulty in difficulties:
        for seed in range(seeds):
            generated = env.generate(task_rng(env.name, seed, 0), env.Options(difficulty=difficulty))
            task = generated.task
            actions = parse_actions(generated.solution)
            observation, total = _play(env, task.seed, task.options.model_dump(), actions)
            episode = env.replay(task.seed, task.options, actions, strict=True)
            json.dumps(episode.info)  # the sessions API sends it as it is
            by_lines = env.score(task, "\n".join(actions)).reward
            if (episode.observation, episode.total_reward) != (observation, total) or not (
                    _score(env, task, generated.solution).reward == by_lines == total == 1.0):
                raise EnvCheckError(f"{env.name}: seed {task.seed} ({difficulty}): step-by-step play gave {total}, "
                                    f"replay {episode.total_reward}, score {by_lines}; expected all 1.0 and the "
                                    "same final observation")
            if env.score(task, "  ").status != Status.NO_ANSWER:
                raise EnvCheckError(f"{env.name}: expected an empty transcript to be no_answer")


def _play(env: MultiTurnEnvironment, seed: int, options: dict, actions: list[str]) -> tuple[str, float]:
    game = env.make()
    first, _ = game.reset(seed=seed, options=options)
    again, _ = env.make().reset(seed=seed, options=options)
    if first != again:
        raise EnvCheckError(f"{env.name}: seed {seed} gave two different first observations")
    observation, total = first, 0.0
    for action in actions:
        observation, reward, terminated, truncated, _ = game.step(action)
        total += float(reward)
        if terminated or truncated:
            break
    if not 0.0 <= round(total, 9) <= 1.0:
        raise EnvCheckError(f"{env.name}: seed {seed}: expected the step rewards to sum to [0, 1], got {total}")
    return observation, round(total, 9)
