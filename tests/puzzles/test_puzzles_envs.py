"""Every served reasoning-gym dataset: its generated answer scores 1, a wrong one less, per seed and difficulty.

The lists of left-out datasets and of difficulties not served are asserted exactly, so that a new exclusion (or
a fixed one) is a visible change in review.
"""

from __future__ import annotations

import json
import random
import socket
import time
import typing

import pytest
from reasoning_gym.factory import DATASETS

from rewardgym.checks import check_env
from rewardgym.protocol import Status
from rewardgym.sdk import InvalidTask, task_rng
from rewardgym.worker.execution import FamilyExecutor
from rewardgym.worker.jobs import ScoreJob
from rewardgym_puzzles import FAMILY, catalogue, fixes
from rewardgym_puzzles.environment import ANSWER_INSTRUCTION, SEED_BITS, PuzzleEnv, PuzzleTask

ENVS: dict[str, PuzzleEnv] = FAMILY.instantiate()  # type: ignore[assignment]
SEEDS = (0, 1)
WRONG_ANSWER = "<answer>wrong</answer>"

EXPECTED_LEFT_OUT = {"boxnet", "codeio", "composite", "isomorphic_strings", "knight_swap", "polynomial_multiplication",
                     "ransom_note", "rush_hour", "word_ladder"}
EXPECTED_UNSERVED_DIFFICULTIES: dict[str, set[str]] = {
    "caesar_cipher": {"hard"}, "jugs": {"medium", "hard"}, "n_queens": {"hard"}, "rubiks_cube": {"medium", "hard"},
    "sokoban": {"easy"}, "survo": {"medium", "hard"}, "zebra_puzzles": {"hard"},
}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generation and scoring must not reach the network (workers run with none): any connection fails here."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def difficulties(env: PuzzleEnv) -> tuple[str, ...]:
    return typing.get_args(env.Options.model_fields["difficulty"].annotation)


def test_left_out_datasets_are_exactly_these() -> None:
    assert set(catalogue.LEFT_OUT) == EXPECTED_LEFT_OUT
    assert set(catalogue.LEFT_OUT) <= set(DATASETS), "a left-out dataset no longer exists in reasoning-gym"
    assert {env.dataset for env in ENVS.values()} == set(DATASETS) - EXPECTED_LEFT_OUT


def test_unserved_difficulties_are_exactly_these() -> None:
    assert {name: set(reasons) for name, reasons in catalogue.UNSERVED_DIFFICULTIES.items()} == \
        EXPECTED_UNSERVED_DIFFICULTIES
    for env in ENVS.values():
        expected = set(catalogue.DIFFICULTIES) if catalogue.has_difficulty(env.dataset) else {"medium"}
        assert set(difficulties(env)) == expected - EXPECTED_UNSERVED_DIFFICULTIES.get(env.dataset, set())


def test_fixes_are_for_served_datasets() -> None:
    served = {env.dataset for env in ENVS.values()}
    assert set(fixes.SCORERS) <= served and set(fixes.REFERENCE_ANSWERS) <= served


def test_names_are_prefixed() -> None:
    assert all(name == f"rg_{env.dataset}" for name, env in ENVS.items())
    assert "countdown" not in ENVS and "rg_countdown" in ENVS


@pytest.mark.parametrize("name", sorted(ENVS))
def test_generated_answer_scores_one_and_a_wrong_one_less(name: str) -> None:
    env = ENVS[name]
    check_env(env, seeds=0)  # declaration, JSON round trip and the catalogue example
    easiest = env.generate(random.Random(0), env.Options(difficulty=difficulties(env)[0]))
    stored = env.examples()[0]
    assert (stored.task, stored.completion) == (easiest.task, easiest.solution), \
        "examples.json is stale: regenerate it with `python -m rewardgym_puzzles`"
    for difficulty in difficulties(env):
        options = env.Options(difficulty=difficulty)
        for seed in SEEDS:
            generated = env.generate(task_rng(name, seed, 0), options)
            again = env.generate(task_rng(name, seed, 0), options)
            assert (generated.prompt, generated.task) == (again.prompt, again.task), "not deterministic per seed"
            if seed == SEEDS[0] and difficulty == difficulties(env)[0]:
                assert_same_as_reasoning_gym(env, difficulty, seed, generated.prompt, generated.task)
            task = env.parse_task(json.loads(json.dumps(generated.task.model_dump(mode="json"))))
            right = env.score(task, generated.solution)
            assert (right.status, right.reward) == (Status.OK, 1.0), (difficulty, seed, right.details)
            wrong = env.score(task, WRONG_ANSWER)
            assert wrong.status == Status.OK and wrong.reward < 1.0, (difficulty, seed, wrong)


def assert_same_as_reasoning_gym(env: PuzzleEnv, difficulty: str, seed: int, prompt: str, task: PuzzleTask) -> None:
    """Our generation (one built dataset per difficulty, its seed changed) gives reasoning-gym's own item 0 of the
    dataset built afresh with that seed."""
    item = catalogue.make_dataset(env.dataset, difficulty, task_rng(env.name, seed, 0).getrandbits(SEED_BITS))[0]
    assert prompt == item["question"] + ANSWER_INSTRUCTION
    assert (task.answer, task.metadata) == tuple(json.loads(json.dumps([item["answer"], item["metadata"]])))


def test_no_extractable_answer_is_no_answer() -> None:
    env = ENVS["rg_basic_arithmetic"]
    task = env.examples()[0].task
    for completion in ("the answer is 4", "<answer>  </answer>", "\\boxed{4", ""):
        score = env.score(task, completion)
        assert (score.status, score.reward) == (Status.NO_ANSWER, 0.0), completion


def test_an_oversized_answer_scores_zero_unread() -> None:
    env = ENVS["rg_word_sorting"]
    task = env.examples()[0].task
    started = time.perf_counter()
    score = env.score(task, "<answer>" + "a, " * 400_000 + "</answer>")
    assert (score.status, score.reward) == (Status.OK, 0.0) and "at most" in score.details["message"]
    assert time.perf_counter() - started < 1.0


def test_a_raising_scorer_is_an_error_with_reward_null(monkeypatch: pytest.MonkeyPatch) -> None:
    env = ENVS["rg_basic_arithmetic"]
    task = env.examples()[0].task

    def raising(answer: str, entry: dict) -> float:
        raise RuntimeError("scorer bug")

    monkeypatch.setattr(env._built_dataset(task.difficulty), "score_answer", raising)
    status, result = FamilyExecutor(ENVS).score(env, ScoreJob(env.name, task.model_dump(mode="json"),
                                                               "<answer>4</answer>"))
    assert status == Status.ERROR and "reward" not in result and "scorer bug" in result["message"]


def test_a_scorer_returning_no_number_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    env = ENVS["rg_basic_arithmetic"]
    task = env.examples()[0].task
    monkeypatch.setattr(env._built_dataset(task.difficulty), "score_answer", lambda answer, entry: None)
    status, result = FamilyExecutor(ENVS).score(env, ScoreJob(env.name, task.model_dump(mode="json"),
                                                               "<answer>4</answer>"))
    assert status == Status.ERROR and "Expected" in result["message"]


def test_a_task_of_another_dataset_is_invalid() -> None:
    task = ENVS["rg_basic_arithmetic"].examples()[0].task
    with pytest.raises(InvalidTask):
        ENVS["rg_chain_sum"].score(task, "<answer>1</answer>")
    with pytest.raises(InvalidTask):
        hard_acre = PuzzleTask(dataset="acre", difficulty="hard", answer="x", metadata={})
        ENVS["rg_acre"].score(hard_acre, "<answer>x</answer>")
