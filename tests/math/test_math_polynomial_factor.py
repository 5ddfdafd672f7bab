from __future__ import annotations

import pytest

from rewardgym.protocol import Status
from rewardgym.sdk import InvalidTask
from rewardgym_math.polynomial_factor import PolynomialFactorEnv, PolynomialFactorTask

ENV = PolynomialFactorEnv()
TASK = PolynomialFactorTask(polynomial="2 x^{3} - 2 x")  # = 2 x (x - 1)(x + 1)


@pytest.mark.parametrize(
    "completion",
    [
        "\\boxed{2x(x-1)(x+1)}",
        "\\boxed{2 x \\left(x + 1\\right) \\left(x - 1\\right)}",
        "\\boxed{-2x(1-x)(x+1)}",
        "The answer is $2(x+1)x(x-1)$.",
        "<answer>2x(x+1)(x-1)</answer>",
    ],
)
def test_complete_factorizations_score_one(completion: str) -> None:
    score = ENV.score(TASK, completion)
    assert score.status == Status.OK and score.reward == 1.0, score.details


@pytest.mark.parametrize(
    ("completion", "message"),
    [
        ("\\boxed{2x(x^2-1)}", "factors further"),
        ("\\boxed{x(2x^2-2)}", "common factor"),
        ("\\boxed{(2x-2)x(x+1)}", "common factor"),
        ("\\boxed{2x^3 - 2x}", "common factor"),
        ("\\boxed{x^3 - x}", "equal to the polynomial"),
        ("\\boxed{2x(x-1)(x+2)}", "equal to the polynomial"),
        ("\\boxed{4x(\\frac{x}{2}-\\frac{1}{2})(x+1)}", "integer"),
    ],
)
def test_incomplete_or_wrong_scores_zero(completion: str, message: str) -> None:
    score = ENV.score(TASK, completion)
    assert score.status == Status.OK and score.reward == 0.0
    assert message in score.details["message"], score.details


def test_repeated_and_irreducible_quadratic_factors() -> None:
    task = PolynomialFactorTask(polynomial="x^{4} + 2 x^{3} + 2 x^{2} + 2 x + 1")  # (x+1)^2 (x^2+1)
    assert ENV.score(task, "\\boxed{(x+1)^2(x^2+1)}").reward == 1.0
    assert ENV.score(task, "\\boxed{(x^2+2x+1)(x^2+1)}").reward == 0.0


def test_no_answer_and_invalid_task() -> None:
    assert ENV.score(TASK, "no idea").status == Status.NO_ANSWER
    with pytest.raises(InvalidTask, match="Expected a polynomial"):
        ENV.score(PolynomialFactorTask(polynomial="\\frac{"), "\\boxed{x}")
