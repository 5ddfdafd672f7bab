from __future__ import annotations

import pytest

from rewardgym.protocol import Status
from rewardgym.sdk import InvalidTask
from rewardgym_math.gsm8k import Gsm8kEnv, Gsm8kTask

ENV = Gsm8kEnv()


@pytest.mark.parametrize(
    ("completion", "gold"),
    [
        ("16 - 3 - 4 = 9, 9 * 2 = 18\n#### 18", "18"),
        ("#### $18", "18"),
        ("So she makes \\boxed{18} dollars.", "18"),
        ("The answer is 18.", "18"),
        ("The answer is 18 dollars", "18"),
        ("The answer is: 18 cm", "18"),
        ("<answer>18</answer>", "18"),
        ("#### 1,000", "1000"),
        ("#### 1000", "1,000"),
        ("The answer is $1,000.", "1000"),
        ("\\boxed{\\$1{,}000}", "1000"),
        ("#### 18.0", "18"),
        ("#### 18.00", "18"),
        ("#### 2.5", "2.50"),
        ("#### -5", "-5"),
        ("The answer is −5 degrees.", "-5"),
        ("\\boxed{\\frac{1}{2}}", "0.5"),
        ("The total is 3 + 4 = 7. The answer is 3 + 4 = 7", "7"),
        ("\\boxed{50\\%}", "50"),
        ("<think>add</think>\n#### 12", "12"),
    ],
)
def test_right_answers_score_one(completion: str, gold: str) -> None:
    score = ENV.score(Gsm8kTask(answer=gold), completion)
    assert score.status == Status.OK and score.reward == 1.0, score.details


@pytest.mark.parametrize(
    ("completion", "gold"),
    [("#### 17", "18"), ("#### 18.5", "18"), ("#### -18", "18"), ("The answer is 1,001", "1000"), ("\\boxed{0.33}", "1/3")],
)
def test_wrong_answers_score_zero(completion: str, gold: str) -> None:
    score = ENV.score(Gsm8kTask(answer=gold), completion)
    assert score.status == Status.OK and score.reward == 0.0


@pytest.mark.parametrize("completion", ["I have no idea.", "", "#### none", "\\boxed{}"])
def test_no_answer(completion: str) -> None:
    score = ENV.score(Gsm8kTask(answer="18"), completion)
    assert score.status == Status.NO_ANSWER and score.reward == 0.0


def test_hashes_win_over_other_forms_and_extracted_is_reported() -> None:
    score = ENV.score(Gsm8kTask(answer="18"), "\\boxed{17}\n#### 18")
    assert score.reward == 1.0 and score.details["extracted"] == "18"


def test_gold_without_a_number_is_invalid() -> None:
    with pytest.raises(InvalidTask, match="Expected a number"):
        ENV.score(Gsm8kTask(answer="eighteen"), "#### 18")
