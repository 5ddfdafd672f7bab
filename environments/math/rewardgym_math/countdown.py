"""`countdown`: reach a target with + - * / and parentheses, using each given number at most once.

The answer is parsed with Python's `ast` and walked by hand (no `eval`): only integer literals, the four binary
operators and unary minus are allowed, and values are exact `Fraction`s.
"""

from __future__ import annotations

import ast
import random
from collections import Counter
from fractions import Fraction
from typing import Literal

from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, Score, TaskModel

from rewardgym_math.common import find_answer, verdict
from rewardgym_math.extract import AnswerForm

MAX_EXPRESSION_CHARS = 200
"""Longer answers are refused before parsing: a real solution over six numbers is far shorter."""

COUNT_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (3, 3), "medium": (4, 4), "hard": (5, 6)}
MAX_NUMBER_BY_DIFFICULTY: dict[str, int] = {"easy": 20, "medium": 50, "hard": 100}
MAX_TARGET = 1000
MAX_GENERATION_TRIES = 1000

_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_SYMBOLS = {"×": "*", "·": "*", "÷": "/", "−": "-", "\\times": "*", "\\cdot": "*", "\\div": "/",
            "\\left": "", "\\right": "", "{": "(", "}": ")", "[": "(", "]": ")"}


class CountdownTask(TaskModel):
    numbers: list[int] = Field(min_length=1, max_length=12, description="The numbers available, each usable once.")
    target: int = Field(description="The value the expression must equal.")


class CountdownOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 3 numbers up to 20; medium: 4 up to 50; hard: 5 or 6 up to 100."""


class ExpressionError(ValueError):
    """The answer is not an allowed arithmetic expression; the message says why."""


def normalize_expression(text: str) -> str:
    """Turn LaTeX/Unicode operators into Python ones and drop a trailing `= target`."""
    for symbol, replacement in _SYMBOLS.items():
        text = text.replace(symbol, replacement)
    return text.split("=", 1)[0].strip()


def parse_expression(text: str) -> ast.expr:
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"Expected an expression of at most {MAX_EXPRESSION_CHARS} characters, got {len(text)}")
    try:
        return ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"Expected an arithmetic expression, got {text!r}") from exc


def evaluate(node: ast.expr, used: list[int]) -> Fraction:
    """Exact value of an allowed expression; the integer literals met are appended to `used`."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        used.append(node.value)
        return Fraction(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -evaluate(node.operand, used)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = evaluate(node.left, used), evaluate(node.right, used)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if right == 0:
            raise ZeroDivisionError("division by zero")
        return left / right
    raise ExpressionError(f"Expected integers, + - * / and parentheses only, got a {type(node).__name__}")


def _combine(rng: random.Random, a: tuple[Fraction, str], b: tuple[Fraction, str]) -> tuple[Fraction, str]:
    (va, ea), (vb, eb) = a, b
    if vb > va:
        (va, ea), (vb, eb) = (vb, eb), (va, ea)
    options = ["+", "*"] + (["-"] if va > vb else []) + (["/"] if vb > 1 and va % vb == 0 else [])
    op = rng.choice(options)
    value = {"+": va + vb, "*": va * vb, "-": va - vb, "/": va / vb if vb else va}[op]
    return value, f"({ea} {op} {eb})"


def random_solution(rng: random.Random, numbers: list[int]) -> tuple[Fraction, str]:
    """Combine all numbers pairwise at random into one expression tree: its value and its text."""
    items = [(Fraction(n), str(n)) for n in numbers]
    while len(items) > 1:
        a = items.pop(rng.randrange(len(items)))
        b = items.pop(rng.randrange(len(items)))
        items.append(_combine(rng, a, b))
    value, text = items[0]
    return value, text[1:-1] if text.startswith("(") else text


class CountdownEnv(Environment[CountdownTask]):
    name = "countdown"
    version = "1.0.0"
    description = (
        "Countdown: write an expression that equals the target using the given numbers, each at most once (as a "
        "multiset; not all must be used), with + - * / and parentheses (unary minus allowed; no powers, names, "
        f"calls, decimals or concatenation; at most {MAX_EXPRESSION_CHARS} characters). Extraction: the last "
        "<answer>...</answer>, else \\boxed{...}, else the line after 'the answer is'; \\times, \\div, ×, ÷ accepted, "
        "a trailing '= target' ignored. Evaluated exactly with fractions. Reward: 1.0 if the value equals the "
        "target and the numbers are allowed, else 0.0 (division by zero or an invalid expression: 0.0 with a "
        "message); no answer -> status no_answer. Components: correct (= reward), format (<think> block before the "
        "answer; reported, not added). Generated tasks are always solvable: built from a random expression tree."
    )
    Task = CountdownTask
    Options = CountdownOptions
    answer_forms: tuple[AnswerForm, ...] = ("answer_tag", "boxed", "answer_is")

    def score(self, task: CountdownTask, completion: str) -> Score:
        found = find_answer(completion, self.answer_forms)
        if isinstance(found, Score):
            return found
        used: list[int] = []
        try:
            value = evaluate(parse_expression(normalize_expression(found.text)), used)
        except ExpressionError as exc:
            return verdict(False, found, completion, message=str(exc))
        except ZeroDivisionError:
            return verdict(False, found, completion, message="Expected an expression without division by zero")
        extra = Counter(used) - Counter(task.numbers)
        if extra:
            return verdict(False, found, completion, message=f"Expected only the numbers {task.numbers}, each at most once; extra: {sorted(extra.elements())}")
        correct = value == task.target
        message = {} if correct else {"message": f"Expected the value {task.target}, got {value}"}
        return verdict(correct, found, completion, value=str(value), **message)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[CountdownTask]:
        if not isinstance(options, CountdownOptions):
            options = CountdownOptions.model_validate(options.model_dump())
        low, high = COUNT_BY_DIFFICULTY[options.difficulty]
        count = rng.randint(low, high)
        top = MAX_NUMBER_BY_DIFFICULTY[options.difficulty]
        for _ in range(MAX_GENERATION_TRIES):
            numbers = [rng.randint(1, top) for _ in range(count)]
            value, expression = random_solution(rng, numbers)
            if value.denominator == 1 and 0 < value <= MAX_TARGET and int(value) not in numbers:
                break
        else:
            raise RuntimeError(f"Expected a solvable task within {MAX_GENERATION_TRIES} tries, got none")
        target = int(value)
        shown = list(numbers)
        rng.shuffle(shown)
        prompt = (
            f"Using the numbers {shown}, create an expression that equals {target}. You may use +, -, *, / and "
            "parentheses, and each number at most once. Put the expression in <answer></answer> tags, e.g. "
            "<answer>(1 + 2) * 3</answer>."
        )
        return Generated(prompt=prompt, task=CountdownTask(numbers=shown, target=target), solution=f"<answer>{expression}</answer>")
