"""`arithmetic`: generated expressions over integers and fractions, with an exact rational answer."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Literal

from pydantic import Field, field_validator

from rewardgym.sdk import Environment, Generated, GenerateOptions, Score, TaskModel

from rewardgym_math.common import find_answer, oversized, verdict
from rewardgym_math.extract import AnswerForm
from rewardgym_math.numbers import exact_number, format_fraction


class ArithmeticTask(TaskModel):
    expression: str = Field(default="", description="The expression shown to the model (informational).")
    answer: str = Field(description="The exact value: an integer or a fraction a/b.")

    @field_validator("answer")
    @classmethod
    def _exact(cls, value: str) -> str:
        if exact_number(value) is None:
            raise ValueError(f"Expected an integer, a/b or an exact decimal, got {value!r}")
        return value


class ArithmeticOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 3 integers, + - *; medium: 4 operands with fractions and /; hard: 5-6 operands, negatives too."""


OPERAND_COUNT: dict[str, tuple[int, int]] = {"easy": (3, 3), "medium": (4, 4), "hard": (5, 6)}
OPERATORS: dict[str, str] = {"easy": "+-*", "medium": "+-*/", "hard": "+-*/"}
FRACTION_PROBABILITY: dict[str, float] = {"easy": 0.0, "medium": 0.4, "hard": 0.5}
MAX_INTEGER = 20


def random_operand(rng: random.Random, difficulty: str) -> tuple[Fraction, str]:
    """An integer, or a proper fraction `(a/b)`; negatives only when hard."""
    if rng.random() < FRACTION_PROBABILITY[difficulty]:
        den = rng.randint(2, 9)
        value = Fraction(rng.randint(1, den - 1), den)
        text = f"({value.numerator}/{value.denominator})"
    else:
        value = Fraction(rng.randint(1, MAX_INTEGER))
        text = str(value.numerator)
    if difficulty == "hard" and rng.random() < 0.3:
        return -value, f"(-{text})"
    return value, text


def random_expression(rng: random.Random, difficulty: str) -> tuple[Fraction, str]:
    """Combine random operands pairwise with random operators (never dividing by zero), fully parenthesized."""
    low, high = OPERAND_COUNT[difficulty]
    items = [random_operand(rng, difficulty) for _ in range(rng.randint(low, high))]
    while len(items) > 1:
        i = rng.randrange(len(items) - 1)
        (va, ea), (vb, eb) = items[i], items[i + 1]
        ops = [op for op in OPERATORS[difficulty] if not (op == "/" and vb == 0)]
        op = rng.choice(ops)
        value = {"+": va + vb, "-": va - vb, "*": va * vb, "/": va / vb if vb else va}[op]
        items[i : i + 2] = [(value, f"({ea} {op} {eb})")]
    value, text = items[0]
    return value, text[1:-1]  # the outer parentheses of the last combination wrap everything


class ArithmeticEnv(Environment[ArithmeticTask]):
    name = "arithmetic"
    version = "1.0.0"
    description = (
        "Exact arithmetic over integers and fractions. Extraction: the last \\boxed{...}, else <answer>...</answer>, "
        "else the line after 'the answer is'. The answer must be one number: an integer, a/b, \\frac{a}{b} (also "
        "\\dfrac, a leading minus), or a decimal, which counts only when it is exactly the value (0.75 for 3/4, "
        "never 0.333 for 1/3); equal values count (6/8 == 3/4). Reward: 1.0 if exactly equal, else 0.0 (an answer "
        "that is not a single number: 0.0 with a message); no answer -> status no_answer. Components: correct "
        "(= reward), format (<think> block before the answer; reported, not added)."
    )
    Task = ArithmeticTask
    Options = ArithmeticOptions
    answer_forms: tuple[AnswerForm, ...] = ("boxed", "answer_tag", "answer_is")

    def score(self, task: ArithmeticTask, completion: str) -> Score:
        gold = exact_number(task.answer)
        found = find_answer(completion, self.answer_forms)
        if isinstance(found, Score):
            return found
        if (refused := oversized(found, completion)) is not None:
            return refused
        value = exact_number(found.text)
        if value is None:
            return verdict(False, found, completion, message="Expected an integer, a fraction or an exact decimal")
        return verdict(value == gold, found, completion, value=format_fraction(value))

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[ArithmeticTask]:
        difficulty = options.difficulty
        value, expression = random_expression(rng, difficulty)
        answer = format_fraction(value)
        prompt = (
            f"Compute the exact value of {expression}. Give the result as an integer or a reduced fraction a/b "
            "in \\boxed{}."
        )
        return Generated(prompt=prompt, task=ArithmeticTask(expression=expression, answer=answer), solution=f"\\boxed{{{answer}}}")
