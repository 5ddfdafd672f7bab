"""`equation`: solve an equation or a small linear system; the solution set is compared order-free, exactly."""

from __future__ import annotations

import random
import re
from fractions import Fraction
from typing import Literal

import sympy
from pydantic import Field, model_validator

from rewardgym.sdk import Environment, Generated, GenerateOptions, Score, TaskModel

from rewardgym_math.common import find_answer, oversized, verdict
from rewardgym_math.extract import AnswerForm
from rewardgym_math.numbers import clean_number_text, exact_number, format_fraction

Solution = tuple[Fraction, ...]

_SEPARATORS = re.compile(r"\\(?:text|mathrm)\{\s*(?:or|and)\s*\}|\\quad|\\qquad|\bor\b|\band\b|;|\\\\")
_SET_BRACES = re.compile(r"\\[{}]|\\[lr]brace|\\left|\\right")
_ASSIGNMENT = re.compile(r"([a-z])(?:_\{?\d+\}?)?\s*=\s*([^,=]+)")
_TUPLE = re.compile(r"\(([^()]*)\)")
_EMPTY = re.compile(r"\\emptyset|\\varnothing|no\s+(?:real\s+)?solutions?", re.IGNORECASE)
ROOT_RANGE = 9


class EquationTask(TaskModel):
    equations: list[str] = Field(min_length=1, description="The equations, in LaTeX (shown to the model).")
    variables: list[str] = Field(min_length=1, max_length=4, description="The unknowns, in solution-tuple order.")
    solutions: list[list[str]] = Field(description="Every solution, one exact value per variable (e.g. ['2'], ['-1/2']).")

    @model_validator(mode="after")
    def _solutions_fit(self) -> "EquationTask":
        for solution in self.solutions:
            if len(solution) != len(self.variables):
                raise ValueError(f"Expected {len(self.variables)} values per solution, got {solution}")
            for value in solution:
                if exact_number(value) is None:
                    raise ValueError(f"Expected an exact number (integer, a/b, decimal), got {value!r}")
        return self


class EquationOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: linear; medium: quadratic with two integer roots; hard: a cubic or a 2x2 linear system."""


def _values(text: str) -> list[Fraction] | None:
    """Comma-separated exact values, `\\pm v` counting as two."""
    values: list[Fraction] = []
    for piece in text.split(","):
        piece = piece.strip()
        if not piece:
            continue
        signs = (1, -1) if piece.startswith("\\pm") else (1,)
        value = exact_number(piece.removeprefix("\\pm"))
        if value is None:
            return None
        values.extend(sign * value for sign in signs)
    return values


def parse_solutions(answer: str, variables: list[str]) -> set[Solution] | None:
    """The solution set an answer states: `x = 2, x = -3`, `\\{2, -3\\}`, `(1, 2), (3, 4)`, `x = 1, y = 2`."""
    if _EMPTY.search(answer):
        return set()
    text = _SEPARATORS.sub(",", _SET_BRACES.sub("", clean_number_text(answer)))
    if len(variables) == 1:
        values = _values(re.sub(r"[a-z](?:_\{?\d+\}?)?\s*=", "", text))
        return None if values is None else {(v,) for v in values}
    tuples = _TUPLE.findall(text)
    if tuples:
        found = [_values(t) for t in tuples]
        if any(v is None or len(v) != len(variables) for v in found):
            return None
        return {tuple(v) for v in found if v is not None}
    solutions: list[dict[str, Fraction]] = [{}]
    for name, raw in _ASSIGNMENT.findall(text):
        value = exact_number(raw)
        if value is None or name not in variables:
            return None
        if name in solutions[-1]:
            solutions.append({})
        solutions[-1][name] = value
    if any(set(s) != set(variables) for s in solutions):
        return None
    return {tuple(s[v] for v in variables) for s in solutions}


def _linear(rng: random.Random, x: sympy.Symbol) -> tuple[list[str], list[list[int]]]:
    a, root, b = rng.choice([-5, -4, -3, -2, 2, 3, 4, 5]), rng.randint(-ROOT_RANGE, ROOT_RANGE), rng.randint(-20, 20)
    return [f"{sympy.latex(a * x + b)} = {a * root + b}"], [[root]]


def _polynomial(rng: random.Random, x: sympy.Symbol, degree: int) -> tuple[list[str], list[list[int]]]:
    roots = rng.sample(range(-ROOT_RANGE, ROOT_RANGE + 1), degree)
    lead = rng.choice([1, 1, 2, -1]) if degree == 2 else 1
    poly = sympy.expand(lead * sympy.Mul(*[x - r for r in roots]))
    return [f"{sympy.latex(poly)} = 0"], [[r] for r in sorted(roots)]


def _system(rng: random.Random, x: sympy.Symbol, y: sympy.Symbol) -> tuple[list[str], list[list[int]]]:
    sx, sy = rng.randint(-ROOT_RANGE, ROOT_RANGE), rng.randint(-ROOT_RANGE, ROOT_RANGE)
    while True:
        a, b, c, d = (rng.choice([-4, -3, -2, -1, 1, 2, 3, 4]) for _ in range(4))
        if a * d - b * c != 0:
            break
    equations = [f"{sympy.latex(a * x + b * y)} = {a * sx + b * sy}", f"{sympy.latex(c * x + d * y)} = {c * sx + d * sy}"]
    return equations, [[sx, sy]]


class EquationEnv(Environment[EquationTask]):
    name = "equation"
    version = "1.0.0"
    description = (
        "Solve an equation or a small system; the answer must give the whole solution set. Extraction: the last "
        "\\boxed{...}, else <answer>...</answer>, else the line after 'the answer is'. Accepted forms: 'x = 2, x = -3', "
        "'2, -3', '\\{2, -3\\}', 'x = 2 \\text{ or } x = -3', '\\pm 2'; for systems '(1, 2)' tuples in the task's "
        "variable order or 'x = 1, y = 2'; '\\emptyset' / 'no solution' for none. Values are exact numbers (integers, "
        "a/b, \\frac{a}{b}, exact decimals). Reward: 1.0 if the stated set equals the gold set (order-free, "
        "duplicates ignored), else 0.0 (unreadable answers: 0.0 with a message); no answer -> no_answer. "
        "Components: correct (= reward), format (<think> block before the answer; reported, not added)."
    )
    Task = EquationTask
    Options = EquationOptions
    answer_forms: tuple[AnswerForm, ...] = ("boxed", "answer_tag", "answer_is")

    def score(self, task: EquationTask, completion: str) -> Score:
        gold = {tuple(exact_number(v) for v in solution) for solution in task.solutions}
        found = find_answer(completion, self.answer_forms)
        if isinstance(found, Score):
            return found
        if (refused := oversized(found, completion)) is not None:
            return refused
        stated = parse_solutions(found.text, task.variables)
        if stated is None:
            return verdict(False, found, completion, message=f"Expected a solution set in {task.variables}, could not read one")
        readable = sorted("(" + ", ".join(format_fraction(v) for v in s) + ")" for s in stated)
        return verdict(stated == gold, found, completion, solutions=readable)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[EquationTask]:
        x, y = sympy.symbols("x y")
        kind = {"easy": "linear", "medium": "quadratic"}.get(options.difficulty) or rng.choice(["cubic", "system"])
        if kind == "system":
            equations, solutions = _system(rng, x, y)
            variables, solution = ["x", "y"], f"\\boxed{{({solutions[0][0]}, {solutions[0][1]})}}"
            ask = "Give the solution as an ordered pair (x, y) in \\boxed{}."
        else:
            equations, solutions = _linear(rng, x) if kind == "linear" else _polynomial(rng, x, 2 if kind == "quadratic" else 3)
            variables = ["x"]
            solution = "\\boxed{" + ", ".join(f"x = {s[0]}" for s in solutions) + "}"
            ask = "Give all real solutions in \\boxed{}, separated by commas, e.g. \\boxed{x = 1, x = -2}."
        shown = ", ".join(f"${e}$" for e in equations)
        prompt = f"Solve for {', '.join(variables)}: {shown}. {ask}"
        task = EquationTask(equations=equations, variables=variables, solutions=[[str(v) for v in s] for s in solutions])
        return Generated(prompt=prompt, task=task, solution=solution)
