from __future__ import annotations

import pytest
from pydantic import ValidationError

from rewardgym.protocol import Status
from rewardgym_math.equation import EquationEnv, EquationTask

ENV = EquationEnv()
QUADRATIC = EquationTask(equations=["x^{2} + x - 6 = 0"], variables=["x"], solutions=[["2"], ["-3"]])
SYSTEM = EquationTask(equations=["x + y = 3", "x - y = -1"], variables=["x", "y"], solutions=[["1", "2"]])


@pytest.mark.parametrize(
    "completion",
    [
        "\\boxed{x = 2, x = -3}",
        "\\boxed{x = -3, x = 2}",
        "\\boxed{2, -3}",
        "\\boxed{\\{2, -3\\}}",
        "\\boxed{\\left\\{-3, 2\\right\\}}",
        "\\boxed{x = 2 \\text{ or } x = -3}",
        "\\boxed{x_1 = 2, x_2 = -3}",
        "The answer is $x = 2$ and $x = -3$.",
        "<answer>-3, 2, 2</answer>",
        "\\boxed{x = \\frac{4}{2}, x = -3.0}",
    ],
)
def test_quadratic_right(completion: str) -> None:
    score = ENV.score(QUADRATIC, completion)
    assert score.status == Status.OK and score.reward == 1.0, score.details


@pytest.mark.parametrize(
    "completion", ["\\boxed{x = 2}", "\\boxed{2, 3}", "\\boxed{2, -3, 1}", "\\boxed{\\emptyset}", "\\boxed{x = \\sqrt{2}}"]
)
def test_quadratic_wrong(completion: str) -> None:
    score = ENV.score(QUADRATIC, completion)
    assert score.status == Status.OK and score.reward == 0.0


def test_plus_minus() -> None:
    task = EquationTask(equations=["x^2 = 4"], variables=["x"], solutions=[["2"], ["-2"]])
    assert ENV.score(task, "\\boxed{x = \\pm 2}").reward == 1.0


@pytest.mark.parametrize("completion", ["\\boxed{(1, 2)}", "\\boxed{x = 1, y = 2}", "\\boxed{y = 2, x = 1}", "<answer>(1,2)</answer>"])
def test_system_right(completion: str) -> None:
    score = ENV.score(SYSTEM, completion)
    assert score.reward == 1.0, score.details


@pytest.mark.parametrize("completion", ["\\boxed{(2, 1)}", "\\boxed{x = 1}", "\\boxed{x = 1, y = 3}", "\\boxed{(1, 2), (3, 4)}"])
def test_system_wrong(completion: str) -> None:
    assert ENV.score(SYSTEM, completion).reward == 0.0


def test_no_solution_and_no_answer() -> None:
    task = EquationTask(equations=["x^2 = -1"], variables=["x"], solutions=[])
    assert ENV.score(task, "\\boxed{\\emptyset}").reward == 1.0
    assert ENV.score(task, "There is no real solution. The answer is: no solution").reward == 1.0
    assert ENV.score(QUADRATIC, "hmm").status == Status.NO_ANSWER


def test_task_validation() -> None:
    with pytest.raises(ValidationError, match="Expected 2 values"):
        EquationTask(equations=["x + y = 1"], variables=["x", "y"], solutions=[["1"]])
