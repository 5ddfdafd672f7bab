from __future__ import annotations

import pytest

from rewardgym.protocol import Status
from rewardgym_math.countdown import MAX_EXPRESSION_CHARS, CountdownEnv, CountdownTask

ENV = CountdownEnv()
TASK = CountdownTask(numbers=[3, 5, 2, 7], target=16)


@pytest.mark.parametrize(
    "completion",
    [
        "<answer>(3 + 5) * 2</answer>",
        "<answer>(3 + 5) * 2 = 16</answer>",
        "\\boxed{(3 + 5) \\times 2}",
        "The answer is (3+5)×2",
        "<answer>7 * 2 + 5 - 3</answer>",
        "<answer>-3 + 7 * 2 + 5</answer>",
        "<answer>(7 * 5 - 3) / 2</answer>",
        "<answer>(7*5-3) \\div 2</answer>",
    ],
)
def test_right_expressions_score_one(completion: str) -> None:
    score = ENV.score(TASK, completion)
    assert score.status == Status.OK and score.reward == 1.0, score.details


@pytest.mark.parametrize(
    ("completion", "message"),
    [
        ("<answer>3 + 5 + 7</answer>", "Expected the value 16"),
        ("<answer>(3 + 5) * 2 * 1</answer>", "extra"),
        ("<answer>8 * 2</answer>", "extra"),
        ("<answer>(7 - 5 + 2) * 2 * 2</answer>", "extra"),
        ("<answer>35 - 19</answer>", "extra"),
        ("<answer>2 ** 4</answer>", "Expected integers"),
        ("<answer>__import__('os')</answer>", "Expected integers"),
        ("<answer>x * 2</answer>", "Expected integers"),
        ("<answer>16.0</answer>", "Expected integers"),
        ("<answer>7 / (5 - 5)</answer>", "division by zero"),
        ("<answer>(3 + 5</answer>", "Expected an arithmetic expression"),
        ("<answer>" + "(" * 300 + "3" + ")" * 300 + "</answer>", f"at most {MAX_EXPRESSION_CHARS}"),
    ],
)
def test_wrong_expressions_score_zero_with_a_message(completion: str, message: str) -> None:
    score = ENV.score(TASK, completion)
    assert score.status == Status.OK and score.reward == 0.0
    assert message in score.details["message"]


def test_numbers_are_a_multiset() -> None:
    task = CountdownTask(numbers=[2, 2, 3], target=12)
    assert ENV.score(task, "<answer>2 * 2 * 3</answer>").reward == 1.0
    assert ENV.score(task, "<answer>2 * 2 * 3 * 2 / 2</answer>").reward == 0.0


def test_no_answer() -> None:
    score = ENV.score(TASK, "I could not find one.")
    assert score.status == Status.NO_ANSWER


def test_difficulty_sets_how_many_numbers() -> None:
    import random

    for difficulty, sizes in (("easy", {3}), ("medium", {4}), ("hard", {5, 6})):
        seen = {len(ENV.generate(random.Random(s), ENV.Options(difficulty=difficulty)).task.numbers) for s in range(30)}
        assert seen <= sizes and seen
