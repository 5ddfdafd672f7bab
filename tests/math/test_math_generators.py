"""Every generating math environment: same seed same task, and its own solution scores 1 (50 seeds x 3)."""

from __future__ import annotations

import random
import re

import pytest

from rewardgym.protocol import Status
from rewardgym.sdk import Environment, task_rng
from rewardgym_math import FAMILY

ENVS = sorted(FAMILY.instantiate().values(), key=lambda env: env.name)
GENERATING = [env for env in ENVS if env.generates_tasks()]
DIFFICULTIES = ("easy", "medium", "hard")
SEEDS = range(50)


def test_family_lists_every_environment() -> None:
    assert {env.name for env in ENVS} == {
        "math", "gsm8k", "multiple_choice", "countdown", "arithmetic", "integration", "equation", "polynomial_factor"
    }
    assert {env.name for env in GENERATING} == {"countdown", "arithmetic", "integration", "equation", "polynomial_factor"}


@pytest.mark.parametrize("env", ENVS, ids=lambda env: env.name)
def test_catalogue_entry_and_examples(env: Environment) -> None:
    info = env.info("math")
    assert re.fullmatch(r"\d+\.\d+\.\d+", info.version) and "Reward" in info.description
    for example in env.examples():
        assert env.parse_task(example.task.model_dump(mode="json")) == example.task
        assert env.score(example.task, example.completion).reward == example.reward


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("env", GENERATING, ids=lambda env: env.name)
def test_same_seed_same_task(env: Environment, difficulty: str) -> None:
    options = env.Options(difficulty=difficulty)
    for seed in range(5):
        first = env.generate(task_rng(env.name, seed, 0), options)
        again = env.generate(task_rng(env.name, seed, 0), options)
        assert (first.prompt, first.task, first.solution) == (again.prompt, again.task, again.solution)
    prompts = {env.generate(random.Random(seed), options).prompt for seed in range(10)}
    assert len(prompts) > 5


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("env", GENERATING, ids=lambda env: env.name)
def test_generated_solution_scores_one(env: Environment, difficulty: str) -> None:
    options = env.Options(difficulty=difficulty)
    state = random.getstate()
    for seed in SEEDS:
        generated = env.generate(random.Random(seed), options)
        task = env.parse_task(generated.task.model_dump(mode="json"))
        score = env.score(task, generated.solution)
        assert score.status == Status.OK and score.reward == 1.0, (seed, generated, score.details)
    assert random.getstate() == state, "generators must not touch the global RNG"
