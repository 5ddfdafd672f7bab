"""`polynomial_factor`: factor a polynomial completely over the integers."""

from __future__ import annotations

import random
from typing import Literal

import sympy
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, Score, TaskModel

from rewardgym_math.common import find_answer, oversized, verdict
from rewardgym_math.extract import AnswerForm
from rewardgym_math.symbolic import parse_expression, parse_gold, unify_variable

FACTOR_COUNT: dict[str, tuple[int, int]] = {"easy": (2, 2), "medium": (2, 3), "hard": (3, 4)}
ROOT_RANGE = 7


class PolynomialFactorTask(TaskModel):
    polynomial: str = Field(min_length=1, description="The polynomial in LaTeX, with integer coefficients.")
    variable: str = Field(default="x", pattern=r"^[a-z]$", description="Its variable.")


class PolynomialFactorOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: two monic linear factors; medium: 2-3 factors, leading coefficients, repeats; hard: 3-4 factors
    including an irreducible quadratic."""


def unfactored_parts(answer: sympy.Expr, x: sympy.Symbol) -> list[str]:
    """The factors of `answer` (as written) that are not irreducible primitive integer polynomials in `x`.

    A numeric factor must be an integer; each other factor (or base of a positive integer power) must have
    integer coefficients, content ±1, and be irreducible over Z (sympy's `factor_list` finds exactly one factor,
    to the first power).
    """
    problems: list[str] = []
    for factor in sympy.Mul.make_args(answer):
        if factor.is_number:
            if not factor.is_Integer:
                problems.append(f"non-integer constant {factor}")
            continue
        base = factor
        if isinstance(factor, sympy.Pow):
            if not (factor.exp.is_Integer and factor.exp > 0):
                problems.append(f"{factor} is not a polynomial factor")
                continue
            base = factor.base
        try:
            poly = sympy.Poly(base, x, domain="ZZ")
        except (sympy.PolynomialError, sympy.CoercionFailed):
            problems.append(f"{base} is not a polynomial in {x} with integer coefficients")
            continue
        content, primitive = poly.primitive()
        if abs(content) != 1:
            problems.append(f"{base} has a common factor {content}")
            continue
        _, factors = sympy.factor_list(primitive.as_expr(), x)
        if len(factors) != 1 or factors[0][1] != 1:
            problems.append(f"{base} factors further")
    return problems


class PolynomialFactorEnv(Environment[PolynomialFactorTask]):
    name = "polynomial_factor"
    version = "1.0.0"
    description = (
        "Factor a polynomial completely over the integers. Extraction: the last \\boxed{...}, else "
        "<answer>...</answer>, else the line after 'the answer is'; parsed by math-verify's LaTeX parser. Correct "
        "when expand(answer - polynomial) == 0 and every factor is irreducible over Z with content ±1 (an integer "
        "constant in front is allowed; checked with sympy.factor_list per factor). Reward: 1.0 if both hold, else "
        "0.0 (the message says which failed); no answer -> no_answer. Components: correct (= reward), format "
        "(<think> block before the answer; reported, not added)."
    )
    Task = PolynomialFactorTask
    Options = PolynomialFactorOptions
    answer_forms: tuple[AnswerForm, ...] = ("boxed", "answer_tag", "answer_is")

    def score(self, task: PolynomialFactorTask, completion: str) -> Score:
        x = sympy.Symbol(task.variable)
        polynomial = unify_variable(parse_gold(task.polynomial, "a polynomial"), task.variable, x)
        found = find_answer(completion, self.answer_forms)
        if isinstance(found, Score):
            return found
        if (refused := oversized(found, completion)) is not None:
            return refused
        parsed = parse_expression(found.text)
        if parsed is None:
            return verdict(False, found, completion, message="The answer did not parse as one LaTeX expression")
        answer = unify_variable(parsed, task.variable, x)
        if answer.free_symbols - {x}:
            return verdict(False, found, completion, message=f"Expected a polynomial in {task.variable} only")
        if sympy.expand(answer - polynomial) != 0:
            return verdict(False, found, completion, message="Expected a product equal to the polynomial")
        problems = unfactored_parts(answer, x)
        if problems:
            return verdict(False, found, completion, message="Expected a complete factorization: " + "; ".join(problems))
        return verdict(True, found, completion)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[PolynomialFactorTask]:
        x = sympy.Symbol("x")
        difficulty = options.difficulty
        low, high = FACTOR_COUNT[difficulty]
        factors: list[sympy.Expr] = []
        for i in range(rng.randint(low, high)):
            if difficulty == "hard" and i == 0:
                b, c = rng.randint(-3, 3), rng.randint(1, 5)
                factors.append(x**2 + b * x + c + b * b)  # discriminant -3b^2 - 4c < 0: irreducible
            elif difficulty != "easy" and factors and rng.random() < 0.25:
                factors.append(factors[-1])
            else:
                lead = 1 if difficulty == "easy" else rng.choice([1, 1, 2, 3])
                root = rng.randint(-ROOT_RANGE, ROOT_RANGE)
                factors.append(sympy.Poly(lead * x - root, x).primitive()[1].as_expr())
        polynomial = sympy.expand(sympy.Mul(*factors))
        latex = sympy.latex(polynomial)
        solution = sympy.latex(sympy.factor(polynomial))
        prompt = f"Factor ${latex}$ completely over the integers. Put the factored form in \\boxed{{}}."
        return Generated(prompt=prompt, task=PolynomialFactorTask(polynomial=latex, variable="x"), solution=f"\\boxed{{{solution}}}")
