"""`math`: free-form answers (MATH, AIME, Olympiad-style) checked with math-verify plus an exact second opinion."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from math_verify import verify
from rewardgym.sdk import Environment, Example, InvalidTask, Score, TaskModel

from rewardgym_math.common import find_answer, oversized, verdict
from rewardgym_math.exact import refutes
from rewardgym_math.extract import AnswerForm
from rewardgym_math.normalize import normalize_answer
from rewardgym_math.parsing import parse_answer, sizes_differ
from rewardgym_math.textual import label_verdict, leading_label, lone_label, text_verdict


class MathTask(TaskModel):
    answer: str = Field(min_length=1, description="The gold answer in LaTeX, without \\boxed{} (e.g. \\frac{1}{2}).")


def parse_latex_answer(latex: str) -> list[Any]:
    """Normalize one answer (see `normalize.py`) and parse it with math-verify's LaTeX parser; [] if it does not."""
    return parse_answer(normalize_answer(latex))


def answers_match(gold: list[Any], pred: list[Any]) -> bool:
    """math-verify's verdict (gold first), vetoed when the exact check shows the values differ."""
    if sizes_differ(gold[0], pred[0]):
        return False
    if not verify(gold, pred, timeout_seconds=None):
        return False
    return not refutes(gold[0], pred[0])


class MathEnv(Environment[MathTask]):
    name = "math"
    version = "1.1.0"
    description = (
        "Free-form math answers. Extraction: the answer stated last among \\boxed{...} (boxes joined by commas or "
        "'and' form one answer), <answer>...</answer> and an answer phrase ('the answer is', 'Final Answer:', "
        "'A resposta é', 'La respuesta es', 'La réponse est', 'Die Antwort ist', ...: the math right after it, not "
        "the rest of the line). Both answers are normalized (thousands separators, trailing punctuation, plain-text "
        "and unicode notation, scientific notation, repeating decimals, mixed numbers, \\pm) and compared: "
        "identical text, choice letters as labels, a decimal gold at the precision it states, then math-verify's "
        "verify(gold, prediction) (equivalent expressions, fractions vs decimals, sets, intervals, matrices, "
        "equations, percent and units) with an exact symbolic check that removes its false positives. Reward: 1.0 "
        "if equivalent, else 0.0; no extractable answer -> status no_answer, reward 0. Components: correct "
        "(= reward), format (1.0 when a <think>...</think> block precedes the answer; reported, not added)."
    )

    Task = MathTask
    answer_forms: tuple[AnswerForm, ...] = ("boxed", "answer_tag", "answer_is")

    def score(self, task: MathTask, completion: str) -> Score:
        gold_text = normalize_answer(task.answer)
        gold_is_label = lone_label(gold_text) is not None or leading_label(gold_text) is not None
        gold = [] if gold_is_label else parse_answer(gold_text)
        if not gold and not gold_is_label:
            raise InvalidTask(f"Expected a gold answer math-verify can parse, got {task.answer!r}")
        found = find_answer(completion, self.answer_forms)
        if isinstance(found, Score):
            return found
        if (refused := oversized(found, completion)) is not None:
            return refused
        pred_text = normalize_answer(found.text)
        decided = label_verdict(gold_text, pred_text) if gold_is_label else text_verdict(gold_text, pred_text)
        if decided is not None or gold_is_label:
            return verdict(bool(decided), found, completion)
        pred = parse_answer(pred_text)
        if not pred:
            return verdict(False, found, completion, message="The extracted answer did not parse as LaTeX")
        return verdict(answers_match(gold, pred), found, completion)

    def examples(self) -> list[Example[MathTask]]:
        return [
            Example(MathTask(answer="\\frac{1}{2}"), "<think>Half of 1.</think> The answer is $\\boxed{0.5}$.", 1.0),
            Example(MathTask(answer="(1, 2]"), "So $x \\in \\boxed{(1,2]}$.", 1.0),
            Example(MathTask(answer="\\frac{1}{2^{99}}"), "\\boxed{\\frac{1}{2^{98}}}", 0.0),
        ]
