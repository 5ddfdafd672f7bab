"""Regression table for the `math` environment: (prediction, gold, expected reward).

Where math-verify alone gets a row wrong (its false positives), the environment fixes it; rows are never weakened.
"""

from __future__ import annotations

import pytest

from rewardgym.protocol import Status
from rewardgym.sdk import InvalidTask
from rewardgym_math.math_env import MathEnv, MathTask

ENV = MathEnv()

TABLE: list[tuple[str, str, float]] = [
    # fractions, decimals, \dfrac
    ("\\frac{1}{2}", "0.5", 1.0),
    ("0.5", "\\frac{1}{2}", 1.0),
    ("\\dfrac{3}{4}", "0.75", 1.0),
    ("0.75", "\\dfrac{3}{4}", 1.0),
    ("\\tfrac{3}{4}", "\\frac{3}{4}", 1.0),
    ("\\frac{2}{4}", "\\frac{1}{2}", 1.0),
    ("1/2", "\\frac{1}{2}", 1.0),
    ("\\frac12", "\\frac{1}{2}", 1.0),
    ("1.5", "\\frac{3}{2}", 1.0),
    ("3.0", "3", 1.0),
    ("0.333333", "\\frac{1}{3}", 1.0),
    ("0.3333", "\\frac{1}{3}", 0.0),
    ("\\frac{2}{3}", "\\frac{1}{3}", 0.0),
    ("0.00000001", "0.0000001", 0.0),
    # thousands separators, percent, degrees, text, units
    ("1,000", "1000", 1.0),
    ("1{,}000", "1000", 1.0),
    ("1000", "1,000", 1.0),
    ("50\\%", "50", 1.0),
    ("10\\%", "0.1", 1.0),
    ("30^\\circ", "30", 1.0),
    ("30^{\\circ}", "30", 1.0),
    ("31^\\circ", "30", 0.0),
    ("\\text{(C)}", "C", 1.0),
    ("5\\text{ apples}", "5", 1.0),
    ("10 cm", "10", 1.0),
    ("2\\text{ cm}", "2", 1.0),
    ("\\$10", "10", 1.0),
    ("11 cm", "10", 0.0),
    # x = 3 vs 3
    ("x = 3", "3", 1.0),
    ("3", "x = 3", 1.0),
    ("x = 4", "3", 0.0),
    # intervals, inequalities
    ("(1, 2]", "(1,2]", 1.0),
    ("[1, 2]", "(1,2]", 0.0),
    ("(-\\infty, 2)", "x < 2", 1.0),
    ("x < 2", "x < 2", 1.0),
    ("2 > x", "x < 2", 1.0),
    ("x > 2", "x < 2", 0.0),
    ("\\infty", "\\infty", 1.0),
    # sets, multiple answers
    ("\\{1,2\\}", "\\{2,1\\}", 1.0),
    ("2, 1", "1,2", 1.0),
    ("-3, 2", "2 \\text{ and } -3", 1.0),
    ("\\{1, 3\\}", "\\{1, 2\\}", 0.0),
    ("x=2 \\text{ or } x=-3", "x=-3 \\text{ or } x=2", 1.0),
    ("x=2, y=3", "y=3, x=2", 1.0),
    # tuples are ordered
    ("(1,2)", "(2,1)", 0.0),
    # equations
    ("y = 2x + 1", "y = 1 + 2x", 1.0),
    ("2x - y + 1 = 0", "y = 2x + 1", 1.0),
    ("y = 2x + 2", "y = 2x + 1", 0.0),
    # matrices
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", 1.0),
    ("\\begin{pmatrix}1\\\\3\\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", 0.0),
    ("\\begin{pmatrix}1 & 0\\\\0 & 1\\end{pmatrix}", "\\begin{bmatrix}1 & 0\\\\0 & 1\\end{bmatrix}", 1.0),
    # letters
    ("B", "C", 0.0),
    ("(C)", "C", 1.0),
    # symbolic equivalence
    ("\\sqrt{8}", "2\\sqrt{2}", 1.0),
    ("x^2+2x+1", "(x+1)^2", 1.0),
    ("x^2+2x+2", "(x+1)^2", 0.0),
    ("\\frac{2\\pi}{4}", "\\frac{\\pi}{2}", 1.0),
    ("\\pi", "3.14", 0.0),
    ("-7", "7", 0.0),
    ("2^{10}", "1024", 1.0),
    # math-verify's known false positives, all must score 0
    ("\\frac{1}{2^{98}}", "\\frac{1}{2^{99}}", 0.0),
    ("4\\sqrt(2)", "4", 0.0),
    ("1+\\frac{1}{e}", "1-\\frac{1}{e}", 0.0),
    ("x^2 = -1", "x^2 = -4", 0.0),
    ("1 = 2", "3 = 4", 0.0),
    ("\\sin x = 2", "\\cos x = 3", 0.0),
    ("x^2 + 1 = 0", "x^2 + 2 = 0", 0.0),
    ("\\frac{1}{10^{20}}", "0", 0.0),
]

# Issue 9 (answer fidelity): our own cases of each cause the peers' grader tests exposed.
TABLE += [
    # sentence punctuation inside the box; an ellipsis is part of the answer
    ("7.", "7", 1.0),
    ("\\frac{2}{5},", "\\frac{2}{5}", 1.0),
    ("3 \\text{ m}.", "3", 1.0),
    ("(4,5).", "(4,5)", 1.0),
    ("2, 4, 6, ...", "2, 4, 6", 0.0),
    # thousands separators: a space, a thin space, {,} and ,\! (never a product: `5 000` was 0, `3\,141` was 142)
    ("5 000", "5000", 1.0),
    ("5 000", "0", 0.0),
    ("3\\,141", "3141", 1.0),
    ("3\\,141", "142", 0.0),
    ("98\\,765\\,432", "98765432", 1.0),
    ("2\\,718.5", "2718.5", 1.0),
    ("12{,}345", "12345", 1.0),
    ("4,\\!321,\\!000", "4321000", 1.0),
    ("3{,}5", "3.5", 1.0),
    # golds that used to be invalid tasks: \mathrm{e}, solutions with \pm
    ("1 + 2e^{-1}", "1 + \\frac{2}{\\mathrm{e}}", 1.0),
    ("x = 1 + \\sqrt{2}, x = 1 - \\sqrt{2}", "x = 1 \\pm \\sqrt{2}", 1.0),
    ("x = 1 + \\sqrt{3}, x = 1 - \\sqrt{3}", "x = 1 \\pm \\sqrt{2}", 0.0),
    ("\\frac{3 \\pm \\sqrt{5}}{2}", "\\frac{3 + \\sqrt{5}}{2}, \\frac{3 - \\sqrt{5}}{2}", 1.0),
    # percent of a fraction, percent as a word
    ("\\frac{1}{4}\\%", "0.0025", 1.0),
    ("\\frac{3}{4} \\text{ percent}", "0.0075", 1.0),
    ("\\frac{1}{3}\\%", "0.005", 0.0),
    # plain-text and unicode notation
    ("2 + sqrt(5)", "2 + \\sqrt{5}", 1.0),
    ("3**(1/3)", "\\sqrt[3]{3}", 1.0),
    ("45°", "45^\\circ", 1.0),
    ("46°", "45", 0.0),
    ("2π", "2\\pi", 1.0),
    ("√3", "\\sqrt{3}", 1.0),
    # the value on the left of an equation
    ("5", "5 = y", 1.0),
    ("4", "5 = y", 0.0),
    # times and ratios
    ("9:30", "9:30", 1.0),
    ("9:00", "10:00", 0.0),
    ("3:4", "\\frac{3}{4}", 1.0),
    # labels: a prime is part of the name, a font is not
    ("F'", "F", 0.0),
    ("F", "F'", 0.0),
    ("F'", "F'", 1.0),
    ("\\mathcal{D}", "D", 1.0),
    ("D. 17", "D", 1.0),
    ("D", "4", 0.0),
    ("d", "D", 1.0),
    ("d'", "D", 0.0),
    # answers too large to evaluate, refuted by size
    ("3^{3^{3^{50}}}", "7", 0.0),
    ("10^{10^{400}}", "10^{10^{400}} + 1", 0.0),
    # the precision rule: a decimal gold is compared at the precision it states
    ("2.71828", "2.718", 1.0),
    ("2.71828183", "2.71828182", 0.0),
    ("2.7182818", "2.71828182", 0.0),
    ("1.41421", "1.414", 1.0),
    ("1.415", "1.414", 0.0),
    ("1.4142", "1.41", 1.0),
    ("\\sqrt{2}", "1.414", 0.0),
    ("0.54", "0.5", 1.0),
    ("0.54", "\\frac{1}{2}", 0.0),
    # scientific notation, in the gold and in the answer
    ("2.5e-7", "2.5\\times10^{-7}", 1.0),
    ("2.5\\times10^{-7}", "0.00000025", 1.0),
    ("2.5e-7", "2.6e-7", 0.0),
    ("6.0221e23", "6.022\\times10^{23}", 1.0),
    ("6.02\\times10^{23}", "6.022\\times10^{23}", 0.0),
    # repeating decimals
    ("0.\\overline{3}", "\\frac{1}{3}", 1.0),
    ("\\frac{5}{11}", "0.\\overline{45}", 1.0),
    ("0.1\\overline{6}", "\\frac{1}{6}", 1.0),
    ("0.\\overline{3}", "0.3", 0.0),
    # mixed numbers: a whole number, a space, a proper fraction
    ("7 1/4", "7.25", 1.0),
    ("7 \\frac{1}{4}", "\\frac{29}{4}", 1.0),
    ("7 5/4", "7.25", 0.0),
    # number lists: a set when both are sorted, an ordered answer when a permutation is not
    ("3, 2, 1", "1, 2, 3", 1.0),
    ("3, 1, 2", "1, 2, 3", 0.0),
    ("9, 2, 7", "2, 7, 9", 0.0),
    ("\\{3, 1, 2\\}", "\\{1, 2, 3\\}", 1.0),
    # an undefined value equals nothing (math-verify: `0` == `(4*0)/0`)
    ("4 \\cdot 0/0", "0", 0.0),
    ("\\frac{0}{0}", "0", 0.0),
]


@pytest.mark.parametrize(("prediction", "gold", "expected"), TABLE)
def test_boxed_prediction(prediction: str, gold: str, expected: float) -> None:
    score = ENV.score(MathTask(answer=gold), f"Some working. So the result is $\\boxed{{{prediction}}}$.")
    assert score.status == Status.OK
    assert score.reward == expected, f"{prediction!r} vs gold {gold!r}: {score.details}"
    assert score.details["extracted"] == prediction


def test_table_is_large_enough() -> None:
    assert len(TABLE) >= 120


@pytest.mark.parametrize(
    "completion",
    [
        "<answer>\\frac{1}{2}</answer>",
        "<answer>$\\frac{1}{2}$</answer>",
        "The answer is $\\frac{1}{2}$.",
        "Final answer: 0.5",
        "\\fbox{0.5}",
        "First \\boxed{3}, no wait: \\boxed{\\frac{1}{2}}",
    ],
)
def test_answer_forms(completion: str) -> None:
    assert ENV.score(MathTask(answer="\\frac12"), completion).reward == 1.0


def test_question_text_is_never_the_answer() -> None:
    score = ENV.score(MathTask(answer="4"), "We need 2 + 2 = 4 apples, I think.")
    assert score.status == Status.NO_ANSWER and score.reward == 0.0


def test_unparseable_gold_is_an_invalid_task() -> None:
    with pytest.raises(InvalidTask, match="Expected a gold answer"):
        ENV.score(MathTask(answer="\\frac{"), "\\boxed{1}")


def test_format_component_is_reported_not_added() -> None:
    with_think = ENV.score(MathTask(answer="2"), "<think>1+1</think> \\boxed{2}")
    without = ENV.score(MathTask(answer="2"), "\\boxed{2}")
    wrong = ENV.score(MathTask(answer="2"), "<think>1+1</think> \\boxed{3}")
    assert with_think.components == {"correct": 1.0, "format": 1.0} and with_think.reward == 1.0
    assert without.components == {"correct": 1.0, "format": 0.0} and without.reward == 1.0
    assert wrong.reward == 0.0 and wrong.components["format"] == 1.0


def test_huge_answer_scores_zero_without_parsing() -> None:
    score = ENV.score(MathTask(answer="1"), "\\boxed{" + "1+" * 5000 + "1}")
    assert score.reward == 0.0 and "at most" in score.details["message"]
