"""Where our scoring departs from reasoning-gym's (rewardgym_puzzles/fixes.py), one test per reason."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from rewardgym_puzzles import FAMILY
from rewardgym_puzzles.environment import PuzzleEnv, PuzzleTask
from rewardgym_puzzles.catalogue import make_dataset
from rewardgym_puzzles.expressions import UnsafeExpression, check_math_expression, exact_value

ENVS: dict[str, PuzzleEnv] = FAMILY.instantiate()  # type: ignore[assignment]


def task_of(dataset: str, seed: int = 0, difficulty: str = "easy") -> tuple[PuzzleTask, dict]:
    item = json.loads(json.dumps(make_dataset(dataset, difficulty, seed)[0]))
    task = PuzzleTask(dataset=dataset, difficulty=difficulty, answer=item["answer"], metadata=item["metadata"])
    return task, item


def reward(dataset: str, task: PuzzleTask, answer: str) -> float:
    return ENVS[f"rg_{dataset}"].score(task, f"<answer>{answer}</answer>").reward


def test_countdown_answers_are_evaluated_exactly() -> None:
    task = PuzzleTask(dataset="countdown", difficulty="easy", answer="94*4 - 61 - 6",
                      metadata={"numbers": [6, 61, 94, 4], "target": 309})
    assert reward("countdown", task, "94*4 - 61 - 6") == 1.0
    assert reward("countdown", task, "4*94 - (6 + 61)") == 1.0
    assert reward("countdown", task, "94*4 - 61 - 6 + 0.001") < 1.0
    assert reward("countdown", task, "94**1*4 - 61 - 6") < 1.0
    assert reward("countdown", task, "94*4 - 61") < 1.0


def test_countdown_float_tolerance_of_reasoning_gym_is_gone() -> None:
    task = PuzzleTask(dataset="countdown", difficulty="easy", answer="", metadata={"numbers": [100000, 100001, 999],
                                                                                   "target": 999})
    close = "999*100001/100000"  # 999.00999: within rtol 1e-5 of 999
    theirs = make_dataset("countdown", "easy", 0).score_answer(close, {"answer": "", "metadata": task.metadata})
    assert theirs == 1.0, "reasoning-gym's countdown scorer accepts this near miss (the bug we fix)"
    assert reward("countdown", task, close) == 0.05


def test_puzzle24_requires_the_given_numbers() -> None:
    task = PuzzleTask(dataset="puzzle24", difficulty="easy", answer="4*8 - 6 - 2", metadata={"numbers": [4, 8, 6, 2]})
    assert reward("puzzle24", task, "4*8 - 6 - 2") == 1.0
    theirs = make_dataset("puzzle24", "easy", 0).score_answer("4*3*2*1", task.model_dump())
    assert theirs == 1.0, "reasoning-gym's puzzle24 scorer accepts numbers that were not given (the bug we fix)"
    assert reward("puzzle24", task, "4*3*2*1") < 1.0


def test_sudoku_accepts_any_solution_of_the_puzzle() -> None:
    puzzle = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    stored = "1 2 3 4\n3 4 1 2\n2 1 4 3\n4 3 2 1"
    other = "2 1 4 3\n4 3 2 1\n1 2 3 4\n3 4 1 2"
    solution = [[int(x) for x in row.split()] for row in stored.splitlines()]
    task = PuzzleTask(dataset="mini_sudoku", difficulty="easy", answer=stored,
                      metadata={"puzzle": puzzle, "solution": solution})
    theirs = make_dataset("mini_sudoku", "easy", 0).score_answer(other, task.model_dump())
    assert theirs < 1.0, "reasoning-gym scores only the stored solution"
    assert reward("mini_sudoku", task, other) == 1.0
    assert reward("mini_sudoku", task, "1 2 3 4\n1 2 3 4\n1 2 3 4\n1 2 3 4") < 1.0
    given = [row[:] for row in puzzle]
    given[0][0] = 1
    assert reward("mini_sudoku", task.model_copy(update={"metadata": {"puzzle": given, "solution": solution}}),
                  other) < 1.0


def test_game_of_life_halting_compares_the_answer_not_its_truthiness() -> None:
    task, _ = task_of("game_of_life_halting")
    gold = task.answer
    wrong = "True" if gold == "False" else "False"
    assert make_dataset("game_of_life_halting", "easy", 0).score_answer(wrong, task.model_dump()) == 1.0
    assert reward("game_of_life_halting", task, wrong) == 0.0
    assert reward("game_of_life_halting", task, gold.lower()) == 1.0


def test_prime_factorization_non_numbers_are_wrong_not_errors() -> None:
    task, _ = task_of("prime_factorization")
    with pytest.raises(ValueError):
        make_dataset("prime_factorization", "easy", 0).score_answer("two", task.model_dump())
    score = ENVS["rg_prime_factorization"].score(task, "<answer>two</answer>")
    assert score.reward == 0.0 and "factors" in score.details["message"]


def test_arc_gold_scores_one_after_a_json_round_trip() -> None:
    for dataset in ("arc_agi", "rearc"):
        task, item = task_of(dataset)
        assert reward(dataset, PuzzleTask.model_validate_json(task.model_dump_json()), item["answer"]) == 1.0


@pytest.mark.parametrize("dataset", ["string_insertion", "spiral_matrix", "binary_matrix", "n_queens"])
def test_eval_fallbacks_read_literals_only(dataset: str, tmp_path) -> None:
    marker = tmp_path / "ran"
    task, _ = task_of(dataset)
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    assert reward(dataset, task, payload) == 0.0
    assert not marker.exists()


@pytest.mark.parametrize("dataset", ["simple_integration", "intermediate_integration"])
def test_sympy_scorers_never_see_code(dataset: str, tmp_path) -> None:
    marker = tmp_path / "ran"
    task, item = task_of(dataset)
    score = ENVS[f"rg_{dataset}"].score(task, f"<answer>__import__('pathlib').Path({str(marker)!r}).touch()</answer>")
    assert score.reward == 0.0 and "Expected" in score.details["message"]
    assert not marker.exists()
    assert reward(dataset, task, item["answer"]) == 1.0


@pytest.mark.parametrize("text", ["x.real", "x[0]", "'a'", "lambda: 1", "f(x)", "sqrt(x, evaluate=False)",
                                  "x if x else y",
                                  "Symbol", "__import__", "a == b", "(x for x in y)"])
def test_check_math_expression_refuses(text: str) -> None:
    with pytest.raises(UnsafeExpression):
        check_math_expression(text)


@pytest.mark.parametrize("text", ["-9*x**8/10 + 3*x**4/2 + C", "2*(-10*x - 10)**(3/2)/3 + C", "exp(2*X)*sin(X)",
                                  "3*Integral(x**3*cos(3*x), x) + C", "1.5*pi"])
def test_check_math_expression_accepts_math(text: str) -> None:
    check_math_expression(text)


def test_exact_value() -> None:
    value, used = exact_value("(1 + 2) * 3 / 4 - -1")
    assert value == Fraction(13, 4) and sorted(used) == [1, 1, 2, 3, 4]
    with pytest.raises(ZeroDivisionError):
        exact_value("1/(2-2)")
    for bad in ("2**3", "1.5", "x", "((" * 300 + "1" + "))" * 300):
        with pytest.raises(UnsafeExpression):
            exact_value(bad)
