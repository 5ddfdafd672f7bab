"""Where we score differently from reasoning-gym, dataset by dataset, and why.

Every function here takes (dataset, answer, entry) like reasoning-gym's `score_answer` and replaces it for one
dataset. The reasons, each covered by a test in tests/puzzles/test_puzzles_fixes.py:

- `countdown`, `puzzle24`: their scorers run sympy's `parse_expr` (an `eval`) on the answer and compare floats
  with `np.isclose` (countdown: relative tolerance 1e-5, so 309.002 "equals" 309; puzzle24 never checks which
  numbers were used). We evaluate exactly with fractions over an AST of integers and + - * /, and require the
  given numbers as a multiset.
- `simple_integration`, `intermediate_integration`: their scorers `parse_expr` the answer. It must first pass
  `check_math_expression`; then their scorer runs unchanged.
- `mini_sudoku`, `sudoku`: a puzzle may have several solutions while the scorer compares with one; any grid that
  solves the puzzle (rows, columns and boxes, consistent with the givens) scores 1.
- `game_of_life_halting`: its scorer compares `bool(answer) == bool(gold)`, so any non-empty answer scores 1.
- `prime_factorization`: its scorer raises `ValueError` on a non-numeric factor (reported as an error): a wrong answer.
- `arc_agi`, `rearc`: the gold grid is a tuple of tuples, which JSON turns into lists, so the gold itself scored
  0.05 after a round trip: the grids are turned back into tuples.
"""

from __future__ import annotations

import importlib
import json
import math
from collections import Counter
from typing import Any, Callable

from rewardgym_puzzles.expressions import UnsafeExpression, check_math_expression, exact_value, literal_only_eval

Entry = dict[str, Any]
Scorer = Callable[[Any, str, Entry], float]

COUNTDOWN_CORRECT, COUNTDOWN_WRONG, COUNTDOWN_UNPARSED = 1.0, 0.05, 0.01
"""reasoning-gym's own reward levels for countdown (kept, so rewards mean the same as theirs)."""
PUZZLE24_CORRECT, PUZZLE24_WRONG = 1.0, 0.01
PUZZLE24_TARGET = 24


class WrongAnswer(Exception):
    """Raised by a fix to score the answer 0 with this message, without calling reasoning-gym's scorer."""


def score_countdown(dataset: Any, answer: str, entry: Entry) -> float:
    metadata = entry["metadata"]
    try:
        value, used = exact_value(answer)
    except (UnsafeExpression, ZeroDivisionError):
        return COUNTDOWN_UNPARSED
    if Counter(used) != Counter(metadata["numbers"]):
        return COUNTDOWN_WRONG
    return COUNTDOWN_CORRECT if value == metadata["target"] else COUNTDOWN_WRONG


def score_puzzle24(dataset: Any, answer: str, entry: Entry) -> float:
    try:
        value, used = exact_value(answer)
    except (UnsafeExpression, ZeroDivisionError):
        return PUZZLE24_WRONG
    if Counter(used) != Counter(entry["metadata"]["numbers"]):
        return PUZZLE24_WRONG
    return PUZZLE24_CORRECT if value == PUZZLE24_TARGET else PUZZLE24_WRONG


def score_checked_expression(dataset: Any, answer: str, entry: Entry) -> float:
    try:
        check_math_expression(answer)
    except UnsafeExpression as exc:
        raise WrongAnswer(str(exc)) from exc
    return dataset.score_answer(answer, entry)


def score_sudoku(dataset: Any, answer: str, entry: Entry) -> float:
    puzzle: list[list[int]] = entry["metadata"]["puzzle"]
    if solves_sudoku(puzzle, parse_grid(answer)):
        return 1.0
    return dataset.score_answer(answer, entry)


def parse_grid(answer: str) -> list[list[int]] | None:
    """Rows on lines, numbers separated by spaces; None when the text is not such a grid."""
    try:
        return [[int(token) for token in line.split()] for line in answer.strip().splitlines() if line.strip()]
    except ValueError:
        return None


def solves_sudoku(puzzle: list[list[int]], grid: list[list[int]] | None) -> bool:
    """Whether `grid` fills `puzzle` (0 = empty) so that every row, column and box holds 1..n once."""
    size = len(puzzle)
    box = math.isqrt(size)
    if grid is None or box * box != size or len(grid) != size or any(len(row) != size for row in grid):
        return False
    digits = set(range(1, size + 1))
    if any(given and given != cell for given_row, row in zip(puzzle, grid) for given, cell in zip(given_row, row)):
        return False
    rows_ok = all(set(row) == digits for row in grid)
    columns_ok = all({grid[r][c] for r in range(size)} == digits for c in range(size))
    boxes_ok = all(
        {grid[r][c] for r in range(top, top + box) for c in range(left, left + box)} == digits
        for top in range(0, size, box) for left in range(0, size, box)
    )
    return rows_ok and columns_ok and boxes_ok


def score_game_of_life_halting(dataset: Any, answer: str, entry: Entry) -> float:
    return 1.0 if answer.strip().lower() == str(entry["answer"]).strip().lower() else 0.0


def score_prime_factorization(dataset: Any, answer: str, entry: Entry) -> float:
    try:
        return dataset.score_answer(answer, entry)
    except ValueError as exc:
        raise WrongAnswer("Expected integer factors separated by ×") from exc


def score_arc(dataset: Any, answer: str, entry: Entry) -> float:
    metadata = dict(entry["metadata"])
    for key in ("input", "output"):
        if isinstance(metadata.get(key), list):
            metadata[key] = tuple(tuple(row) for row in metadata[key])
    return dataset.score_answer(answer, {**entry, "metadata": metadata})


SCORERS: dict[str, Scorer] = {
    "countdown": score_countdown,
    "puzzle24": score_puzzle24,
    "simple_integration": score_checked_expression,
    "intermediate_integration": score_checked_expression,
    "mini_sudoku": score_sudoku,
    "sudoku": score_sudoku,
    "game_of_life_halting": score_game_of_life_halting,
    "prime_factorization": score_prime_factorization,
    "arc_agi": score_arc,
    "rearc": score_arc,
}

REFERENCE_ANSWERS: dict[str, Callable[[Entry], str]] = {
    "graph_color": lambda entry: json.dumps(entry["metadata"]["possible_answer"]),
    "propositional_logic": lambda entry: entry["metadata"]["example_answer"],
    "rubiks_cube": lambda entry: entry["metadata"]["example_correct_answer"],
}
"""Datasets whose items have no `answer` but whose metadata holds one valid answer (used as the reference)."""

EVAL_FALLBACK_MODULES = (
    "reasoning_gym.algorithmic.string_insertion",
    "reasoning_gym.algorithmic.spiral_matrix",
    "reasoning_gym.algorithmic.binary_matrix",
    "reasoning_gym.games.n_queens",
)
"""Modules whose scorers `eval` the answer to read a Python list for partial credit (see `harden`)."""


def score(name: str, dataset: Any, answer: str, entry: Entry) -> float:
    """reasoning-gym's score of `answer`, through our fix for `name` where there is one."""
    scorer = SCORERS.get(name)
    return scorer(dataset, answer, entry) if scorer else dataset.score_answer(answer, entry)


def harden() -> None:
    """Make the partial-credit fallbacks that `eval` the answer read literals only (`ast.literal_eval`).

    The fallback is meant to read a Python list literal, which `literal_eval` does the same way; anything else it
    refuses with an exception, which those scorers already treat as a wrong answer.
    """
    for module_name in EVAL_FALLBACK_MODULES:
        module = importlib.import_module(module_name)
        module.eval = literal_only_eval  # type: ignore[attr-defined]  # module global shadows the builtin
