"""Every installed environment passes `check_env`; discovery goes through entry points."""

import importlib

import pytest

from rewardgym.checks import EnvCheckError, check_env
from rewardgym.registry import FamilyNotFound, installed_family_names, load_family
from rewardgym.sdk import Environment, Example, Score, TaskModel
from tests.support.toy_family import FAMILY as TOY


def all_environments() -> list[Environment]:
    envs = list(TOY.instantiate().values())
    for family in installed_family_names():
        envs += load_family(family).instantiate().values()
    return envs


def seeds_for(env: Environment) -> int:
    """The puzzles family's 97 reasoning-gym generators (some take a second per task) are run per seed and
    difficulty by tests/puzzles/test_puzzles_envs.py; here they get the declaration and example checks only."""
    return 0 if type(env).__module__.startswith("rewardgym_puzzles") else 10


@pytest.mark.parametrize("env", all_environments(), ids=lambda env: env.name)
def test_every_registered_environment_passes_check_env(env):
    check_env(env, seeds=seeds_for(env))


def test_the_math_family_is_found_through_its_entry_point():
    importlib.import_module("rewardgym_math")  # in this repository: missing must fail, never skip
    assert "math" in installed_family_names()
    names = {env.name for env in load_family("math").environments}
    assert len(names) >= 8 and {"math", "gsm8k", "countdown"} <= names


def test_unknown_family_and_bad_entry_are_loud():
    with pytest.raises(FamilyNotFound, match="Expected an installed family named 'nope'"):
        load_family("nope")
    with pytest.raises(TypeError, match="Expected 'tests.support.toy_family:EchoTask' to be a rewardgym.Family"):
        load_family("tests.support.toy_family:EchoTask")


class _Task(TaskModel):
    answer: str


class _Liar(Environment[_Task]):
    name = "liar"
    description = "claims an example it does not score"
    Task = _Task

    def score(self, task: _Task, completion: str) -> Score:
        return Score(reward=0.0)

    def examples(self) -> list[Example[_Task]]:
        return [Example(task=_Task(answer="1"), completion="1", reward=1.0)]


def test_check_env_catches_an_example_that_does_not_score_as_claimed():
    with pytest.raises(EnvCheckError, match="liar: example expected reward 1.0, got 0.0"):
        check_env(_Liar())
