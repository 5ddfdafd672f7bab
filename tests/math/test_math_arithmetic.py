from __future__ import annotations

import pytest
from pydantic import ValidationError

from rewardgym.protocol import Status
from rewardgym_math.arithmetic import ArithmeticEnv, ArithmeticTask

ENV = ArithmeticEnv()


@pytest.mark.parametrize(
    ("completion", "gold"),
    [
        ("\\boxed{-3/4}", "-3/4"),
        ("\\boxed{\\frac{-3}{4}}", "-3/4"),
        ("\\boxed{-\\frac{3}{4}}", "-3/4"),
        ("\\boxed{-\\dfrac{3}{4}}", "-3/4"),
        ("\\boxed{-0.75}", "-3/4"),
        ("\\boxed{-6/8}", "-3/4"),
        ("The answer is $7$.", "7"),
        ("<answer>7</answer>", "7"),
        ("\\boxed{7.0}", "7"),
        ("\\boxed{14/2}", "7"),
    ],
)
def test_exact_answers_score_one(completion: str, gold: str) -> None:
    score = ENV.score(ArithmeticTask(answer=gold), completion)
    assert score.status == Status.OK and score.reward == 1.0, score.details


@pytest.mark.parametrize(
    ("completion", "gold"),
    [("\\boxed{0.333}", "1/3"), ("\\boxed{0.3333333333}", "1/3"), ("\\boxed{3/4}", "-3/4"), ("\\boxed{8}", "7"), ("\\boxed{\\sqrt{2}}", "7"), ("\\boxed{7/0}", "7")],
)
def test_inexact_or_wrong_answers_score_zero(completion: str, gold: str) -> None:
    score = ENV.score(ArithmeticTask(answer=gold), completion)
    assert score.status == Status.OK and score.reward == 0.0


def test_no_answer() -> None:
    assert ENV.score(ArithmeticTask(answer="1"), "It is one.").status == Status.NO_ANSWER


def test_gold_must_be_exact() -> None:
    with pytest.raises(ValidationError, match="Expected an integer"):
        ArithmeticTask(answer="\\pi")
