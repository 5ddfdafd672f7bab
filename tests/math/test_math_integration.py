from __future__ import annotations

import pytest

from rewardgym.protocol import Status
from rewardgym.sdk import InvalidTask
from rewardgym_math.integration import IntegrationEnv, IntegrationTask

ENV = IntegrationEnv()
TASK = IntegrationTask(integrand="2 x + \\cos{\\left(x \\right)}")


@pytest.mark.parametrize(
    "completion",
    [
        "\\boxed{x^2 + \\sin x}",
        "\\boxed{x^{2} + \\sin{\\left(x \\right)} + C}",
        "\\boxed{x^2 + \\sin(x) + 5}",
        "\\boxed{F(x) = x^2 + \\sin x + C}",
        "The answer is $x^2 + \\sin x + C$.",
        "<answer>\\sin x + x \\cdot x</answer>",
    ],
)
def test_any_antiderivative_scores_one(completion: str) -> None:
    score = ENV.score(TASK, completion)
    assert score.status == Status.OK and score.reward == 1.0, score.details


@pytest.mark.parametrize(
    "completion",
    [
        "\\boxed{x^2 - \\sin x}",
        "\\boxed{2}",
        "\\boxed{x^2 + \\cos x}",
        "\\boxed{\\int (2x + \\cos x) dx}",
        "\\boxed{x^2 + \\sin x + y}",
        "\\boxed{\\frac{}{}}",
    ],
)
def test_wrong_answers_score_zero(completion: str) -> None:
    score = ENV.score(TASK, completion)
    assert score.status == Status.OK and score.reward == 0.0


def test_exp_and_products() -> None:
    task = IntegrationTask(integrand="x e^{x}")
    assert ENV.score(task, "\\boxed{(x - 1) e^{x} + C}").reward == 1.0
    assert ENV.score(task, "\\boxed{x e^{x} - e^{x}}").reward == 1.0
    assert ENV.score(task, "\\boxed{x e^{x}}").reward == 0.0


def test_log_means_natural_log() -> None:
    task = IntegrationTask(integrand="\\frac{1}{x}")
    assert ENV.score(task, "\\boxed{\\ln x + C}").reward == 1.0
    assert ENV.score(task, "\\boxed{\\log(x)}").reward == 1.0


def test_no_answer_and_invalid_task() -> None:
    assert ENV.score(TASK, "I don't know").status == Status.NO_ANSWER
    with pytest.raises(InvalidTask, match="Expected an integrand"):
        ENV.score(IntegrationTask(integrand="\\frac{"), "\\boxed{x}")
