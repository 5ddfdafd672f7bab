from __future__ import annotations

import pytest
from pydantic import ValidationError

from rewardgym.protocol import Status
from rewardgym_math.multiple_choice import MultipleChoiceEnv, MultipleChoiceTask

ENV = MultipleChoiceEnv()
TASK = MultipleChoiceTask(answer="C", choices=["1", "2", "3", "4"])


@pytest.mark.parametrize(
    "completion",
    [
        "The answer is C.",
        "The answer is (C).",
        "the answer is: **C**",
        "Answer: C",
        "Answer: (C) 3",
        "\\boxed{C}",
        "\\boxed{(C)}",
        "\\boxed{\\text{(C)}}",
        "$\\boxed{\\textbf{(C)}}$",
        "<answer>C</answer>",
        "<answer>option C</answer>",
        "Adding up, we get 3.\n(C)",
        "Adding up, we get 3.\n**C**",
        "The answer is 3.",
        "<think>1 + 2</think> Answer: C",
    ],
)
def test_right_letter_scores_one(completion: str) -> None:
    score = ENV.score(TASK, completion)
    assert score.status == Status.OK and score.reward == 1.0, score.details


@pytest.mark.parametrize("completion", ["The answer is B.", "\\boxed{D}", "Answer: (A)", "The answer is 4.", "\n(B)"])
def test_wrong_letter_scores_zero(completion: str) -> None:
    score = ENV.score(TASK, completion)
    assert score.status == Status.OK and score.reward == 0.0


def test_letter_outside_the_choices_is_wrong() -> None:
    score = ENV.score(TASK, "\\boxed{H}")
    assert score.reward == 0.0 and "Expected one of ABCD" in score.details["message"]


@pytest.mark.parametrize("completion", ["I am not sure.", "The answer is a prime number", "Option (A) is wrong, (C) is wrong too, so"])
def test_no_answer(completion: str) -> None:
    score = ENV.score(TASK, completion)
    assert score.status == Status.NO_ANSWER and score.reward == 0.0


def test_task_validation() -> None:
    assert MultipleChoiceTask(answer="(b)").answer == "B"
    with pytest.raises(ValidationError, match="Expected one letter"):
        MultipleChoiceTask(answer="K")
    with pytest.raises(ValidationError, match="Expected 1 to 10 choices"):
        MultipleChoiceTask(answer="A", choices=[str(i) for i in range(11)])
