"""Answer fidelity on whole completions (issue 9): answer phrases in five languages, the multi-box rule, the last
stated answer, and answers too large to evaluate. Our own cases; the peers' are in test_math_conformance.py."""

from __future__ import annotations

import time

import pytest

from rewardgym.protocol import Status
from rewardgym_math.gsm8k import Gsm8kEnv, Gsm8kTask
from rewardgym_math.math_env import MathEnv, MathTask
from rewardgym_math.multiple_choice import MultipleChoiceEnv, MultipleChoiceTask

MATH = MathEnv()
GSM8K = Gsm8kEnv()
CHOICE = MultipleChoiceEnv()

PHRASES = [
    "The answer is {}.",
    "Final Answer: The final answer is {}. I hope it is correct.",
    "**Final Answer:** {}",
    "A resposta é {}.",
    "Resposta final: {}",
    "La respuesta es {}.",
    "Respuesta final: {}",
    "La réponse est {}.",
    "Réponse finale : {}",
    "Die Antwort ist {}.",
    "Antwort: {}",
]


@pytest.mark.parametrize("phrase", PHRASES)
def test_answer_phrases_in_five_languages_for_math(phrase: str) -> None:
    right = MATH.score(MathTask(answer="\\frac{3}{4}"), "Some work.\n" + phrase.format("$\\frac{3}{4}$"))
    wrong = MATH.score(MathTask(answer="\\frac{3}{4}"), "Some work.\n" + phrase.format("$\\frac{4}{3}$"))
    assert (right.status, right.reward, wrong.reward) == (Status.OK, 1.0, 0.0), (right.details, wrong.details)


@pytest.mark.parametrize("phrase", PHRASES)
def test_answer_phrases_in_five_languages_for_gsm8k(phrase: str) -> None:
    assert GSM8K.score(Gsm8kTask(answer="1250"), "She saves 1,250.\n" + phrase.format("1,250")).reward == 1.0
    assert GSM8K.score(Gsm8kTask(answer="1250"), "Hmm.\n" + phrase.format("1,205")).reward == 0.0


@pytest.mark.parametrize("phrase", PHRASES + ["La respuesta correcta es la opción {}.", "A resposta é a alternativa {}.",
                                              "La réponse est l'option {}.", "Die richtige Antwort ist {}."])
def test_answer_phrases_in_five_languages_for_multiple_choice(phrase: str) -> None:
    task = MultipleChoiceTask(answer="B")
    assert CHOICE.score(task, "Thinking.\n" + phrase.format("B")).reward == 1.0
    assert CHOICE.score(task, "Thinking.\n" + phrase.format("D")).reward == 0.0


@pytest.mark.parametrize(("completion", "extracted"), [
    ("The answer is 42 because geometry proves it.", "42"),
    ("The final answer is $2{,}024$. I hope it is correct.", "2{,}024"),
    ("Final Answer: The area of $ABCD$ is 64. I hope it is correct.", "64"),
    ("Final Answer: The train left 9 hours ago.", "9"),
    ("The answer is x = 2 or x = -5, as required.", "x = 2 or x = -5"),
    ("The answer is \\(\\frac{7}{2}\\). Done.", "\\frac{7}{2}"),
])
def test_an_answer_phrase_takes_the_shortest_answer_after_it(completion: str, extracted: str) -> None:
    gold = {"42": "42", "2{,}024": "2024", "64": "64", "9": "9", "x = 2 or x = -5": "-5, 2",
            "\\frac{7}{2}": "3.5"}[extracted]
    score = MATH.score(MathTask(answer=gold), completion)
    assert (score.details["extracted"], score.reward) == (extracted, 1.0), score.details


@pytest.mark.parametrize(("completion", "gold", "reward"), [
    ("\\boxed{2} and \\boxed{7}", "\\{2, 7\\}", 1.0),
    ("\\boxed{2}, \\boxed{7}", "7, 2", 1.0),
    ("$\\boxed{a = 3} \\quad \\text{and} \\quad \\boxed{b = 8}$", "a = 3, b = 8", 1.0),
    ("$p = \\boxed{5}$ \\text{ and } $q = \\boxed{11}$", "p = 5, q = 11", 1.0),
    ("\\boxed{(1, 4)} \\text{ or } \\boxed{(4, 1)}", "(4,1), (1,4)", 1.0),
    ("\\boxed{2} and \\boxed{7}", "7", 0.0),
    ("First try \\boxed{3}. That was wrong, so the result is \\boxed{7}", "7", 1.0),
    ("\\boxed{3} \\boxed{3} \\boxed{7}", "7", 1.0),
])
def test_boxes_joined_by_and_or_commas_form_one_answer(completion: str, gold: str, reward: float) -> None:
    score = MATH.score(MathTask(answer=gold), completion)
    assert score.reward == reward, score.details


@pytest.mark.parametrize("completion", ["The answer is not 5.", "Final Answer: There is no solution above 5.",
                                        "A resposta não é 5.", "Die Antwort ist nicht 5."])
def test_a_negated_sentence_gives_no_number(completion: str) -> None:
    assert MATH.score(MathTask(answer="5"), completion).reward == 0.0
    assert MATH.score(MathTask(answer="7"), "So $\\boxed{7}$.\n" + completion).reward == 1.0  # the box stands


def test_a_phrase_without_an_answer_leaves_the_box_standing() -> None:
    score = MATH.score(MathTask(answer="7"), "Thus $\\boxed{7}$.\n\nAnswer: see the box above.")
    assert (score.reward, score.details["form"]) == (1.0, "boxed")


def test_the_answer_stated_last_wins() -> None:
    completion = ("The interest is $\\boxed{120}$ in the first year. Total: $4{,}000 + 120 = 4{,}120$.\n"
                  "Final Answer: The final answer is $4{,}120$. I hope it is correct.")
    score = MATH.score(MathTask(answer="4120"), completion)
    assert (score.reward, score.details["form"]) == (1.0, "answer_is")
    assert MATH.score(MathTask(answer="120"), completion).reward == 0.0
    boxed_after = MATH.score(MathTask(answer="5"), "The answer is 4, no: \\boxed{5}")
    assert (boxed_after.reward, boxed_after.details["form"]) == (1.0, "boxed")


def test_a_misspelled_box_command_still_boxes() -> None:
    assert MATH.score(MathTask(answer="3\\sqrt{5}"), "\\beginboxed{3\\sqrt{5}}").reward == 1.0


def test_answers_too_large_to_evaluate_are_refuted_by_size_quickly() -> None:
    started = time.monotonic()
    score = MATH.score(MathTask(answer="1"), "\\boxed{2^{2^{2^{49}}}}")
    assert (score.status, score.reward) == (Status.OK, 0.0)
    assert time.monotonic() - started < 2.0
