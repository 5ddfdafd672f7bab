"""`integration`: indefinite integrals; any antiderivative is right, checked by differentiating it."""

from __future__ import annotations

import random
from typing import Literal

import sympy
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, Score, TaskModel

from rewardgym_math.common import find_answer, oversized, verdict
from rewardgym_math.extract import AnswerForm
from rewardgym_math.symbolic import is_zero, parse_expression, parse_gold, strip_constant, unify_variable

TERM_COUNT: dict[str, tuple[int, int]] = {"easy": (1, 2), "medium": (2, 3), "hard": (2, 3)}
MAX_COEFFICIENT = 6


class IntegrationTask(TaskModel):
    integrand: str = Field(min_length=1, description="The integrand in LaTeX, e.g. 3 x^{2} + \\cos{\\left(x \\right)}.")
    variable: str = Field(default="x", pattern=r"^[a-z]$", description="The variable of integration.")


class IntegrationOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: a polynomial, maybe plus e^x, sin or cos; medium: sums with e^{ax}, sin(ax), cos(ax);
    hard: also products x e^{ax}, x sin(ax), x cos(ax), x^2 e^x."""


def _random_term(rng: random.Random, x: sympy.Symbol, difficulty: str) -> sympy.Expr:
    c = rng.choice([i for i in range(-MAX_COEFFICIENT, MAX_COEFFICIENT + 1) if i != 0])
    a = 1 if difficulty == "easy" else rng.randint(1, 3)
    kinds = ["power", "power", "exp", "sin", "cos"]
    if difficulty == "hard":
        kinds += ["x_exp", "x_sin", "x_cos", "x2_exp"]
    kind = rng.choice(kinds)
    if kind == "power":
        return c * x ** rng.randint(0, 4)
    return c * {
        "exp": sympy.exp(a * x),
        "sin": sympy.sin(a * x),
        "cos": sympy.cos(a * x),
        "x_exp": x * sympy.exp(a * x),
        "x_sin": x * sympy.sin(a * x),
        "x_cos": x * sympy.cos(a * x),
        "x2_exp": x**2 * sympy.exp(x),
    }[kind]


class IntegrationEnv(Environment[IntegrationTask]):
    name = "integration"
    version = "1.0.0"
    description = (
        "Indefinite integrals. Extraction: the last \\boxed{...}, else <answer>...</answer>, else the line after 'the "
        "answer is'. A trailing '+ C' is ignored, 'F(x) = ...' reads as its right side, \\log means ln. The answer "
        "is parsed by math-verify's LaTeX parser (never sympify) and is correct when d/dx(answer) - integrand is "
        "zero: a numeric check at a few points first, then sympy.simplify. Answers that contain an integral or "
        "another free variable score 0. Reward: 1.0 if an antiderivative, else 0.0; no answer -> no_answer. "
        "Components: correct (= reward), format (<think> block before the answer; reported, not added)."
    )
    Task = IntegrationTask
    Options = IntegrationOptions
    answer_forms: tuple[AnswerForm, ...] = ("boxed", "answer_tag", "answer_is")
    timeout_s = 20.0

    def score(self, task: IntegrationTask, completion: str) -> Score:
        x = sympy.Symbol(task.variable)
        integrand = unify_variable(parse_gold(task.integrand, "an integrand"), task.variable, x)
        found = find_answer(completion, self.answer_forms)
        if isinstance(found, Score):
            return found
        if (refused := oversized(found, completion)) is not None:
            return refused
        parsed = parse_expression(strip_constant(found.text).replace("\\log", "\\ln"))
        if parsed is None:
            return verdict(False, found, completion, message="The answer did not parse as one LaTeX expression")
        answer = unify_variable(parsed, task.variable, x)
        if answer.has(sympy.Integral, sympy.Derivative):
            return verdict(False, found, completion, message="Expected an answer without integrals or derivatives")
        if answer.free_symbols - {x}:
            names = sorted(str(s) for s in answer.free_symbols - {x})
            return verdict(False, found, completion, message=f"Expected a function of {task.variable} only, got symbols {names}")
        return verdict(is_zero(sympy.diff(answer, x) - integrand, x), found, completion)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[IntegrationTask]:
        x = sympy.Symbol("x")
        low, high = TERM_COUNT[options.difficulty]
        integrand = sympy.Integer(0)
        while integrand == 0:
            integrand = sum((_random_term(rng, x, options.difficulty) for _ in range(rng.randint(low, high))), sympy.Integer(0))
        antiderivative = sympy.integrate(integrand, x)
        latex = sympy.latex(integrand)
        prompt = f"Find the indefinite integral $\\int \\left({latex}\\right)\\,dx$. Put the antiderivative in \\boxed{{}}."
        return Generated(
            prompt=prompt,
            task=IntegrationTask(integrand=latex, variable="x"),
            solution=f"\\boxed{{{sympy.latex(antiderivative)} + C}}",
        )
