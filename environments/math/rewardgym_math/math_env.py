"""`math`: free-form answers (MATH, AIME, Olympiad-style) checked with math-verify plus an exact second opinion."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from math_verify import LatexExtractionConfig, parse, verify
from rewardgym.sdk import Environment, Example, InvalidTask, Score, TaskModel

from rewardgym_math.common import find_answer, oversized, verdict
from rewardgym_math.exact import refutes
from rewardgym_math.extract import AnswerForm

# Only a \boxed{} is looked for, and we always hand math-verify a boxed string we built: no anchorless fallback
# can pick up question text, and ExprExtractionConfig (which runs sympy's parse_expr) is never used.
BOXED_ONLY = (LatexExtractionConfig(boxed_match_priority=0, try_extract_without_anchor=False),)


class MathTask(TaskModel):
    answer: str = Field(min_length=1, description="The gold answer in LaTeX, without \\boxed{} (e.g. \\frac{1}{2}).")


def parse_latex_answer(latex: str) -> list[Any]:
    """Parse one answer with math-verify's LaTeX parser; [] when it does not parse.

    `parsing_timeout=None` because math-verify's timeout uses SIGALRM (main thread only): the worker's hard
    deadline bounds this call instead.
    """
    return parse("\\boxed{" + latex + "}", extraction_config=BOXED_ONLY, fallback_mode="no_fallback", parsing_timeout=None)


def answers_match(gold: list[Any], pred: list[Any]) -> bool:
    """math-verify's verdict (gold first), vetoed when the exact check shows the values differ."""
    if not verify(gold, pred, timeout_seconds=None):
        return False
    return not refutes(gold[0], pred[0])


class MathEnv(Environment[MathTask]):
    name = "math"
    version = "1.0.0"
    description = (
        "Free-form math answers. Extraction: the last \\boxed{...} (or \\fbox), else the last <answer>...</answer>, "
        "else the text after the last 'the answer is' / 'answer:' on its line. The extracted LaTeX and the gold "
        "(wrapped in \\boxed{}) are parsed by math-verify and compared with verify(gold, prediction): equivalent "
        "expressions, fractions vs decimals, sets in any order, intervals, matrices, equations, percent and units. "
        "math-verify's false positives (values within 1e-15, equations without solutions) are removed by an exact "
        "symbolic check. Reward: 1.0 if equivalent, else 0.0; no extractable answer -> status no_answer, reward 0. "
        "Components: correct (= reward), format (1.0 when a <think>...</think> block precedes the answer; reported, "
        "not added to the reward)."
    )
    Task = MathTask
    answer_forms: tuple[AnswerForm, ...] = ("boxed", "answer_tag", "answer_is")

    def score(self, task: MathTask, completion: str) -> Score:
        gold = parse_latex_answer(task.answer)
        if not gold:
            raise InvalidTask(f"Expected a gold answer math-verify can parse, got {task.answer!r}")
        found = find_answer(completion, self.answer_forms)
        if isinstance(found, Score):
            return found
        if (refused := oversized(found, completion)) is not None:
            return refused
        pred = parse_latex_answer(found.text)
        if not pred:
            return verdict(False, found, completion, message="The extracted answer did not parse as LaTeX")
        return verdict(answers_match(gold, pred), found, completion)

    def examples(self) -> list[Example[MathTask]]:
        return [
            Example(MathTask(answer="\\frac{1}{2}"), "<think>Half of 1.</think> The answer is $\\boxed{0.5}$.", 1.0),
            Example(MathTask(answer="(1, 2]"), "So $x \\in \\boxed{(1,2]}$.", 1.0),
            Example(MathTask(answer="\\frac{1}{2^{99}}"), "\\boxed{\\frac{1}{2^{98}}}", 0.0),
        ]
