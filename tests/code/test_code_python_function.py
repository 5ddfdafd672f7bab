"""`python_function` (HumanEval / MBPP) against the real sandbox."""

from __future__ import annotations

import pytest
from code_support import executed, fenced, score

from rewardgym.protocol import Status
from rewardgym.sdk import InvalidTask
from rewardgym_code.python_function import PythonFunctionEnv, defines, harness_program, solution_source

ENV = PythonFunctionEnv()
HUMANEVAL = {
    "prompt": "from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    \"\"\"Sum of xs.\"\"\"\n",
    "test": "def check(candidate):\n    assert candidate([1, 2, 3]) == 6\n    assert candidate([]) == 0\n",
    "entry_point": "total",
}
MBPP = {"test": "assert is_even(4)\nassert not is_even(7)\n", "entry_point": "is_even"}


@pytest.mark.parametrize(("task", "completion", "reward", "verdict"), [
    (HUMANEVAL, "    return sum(xs)\n", 1.0, "AC"),  # continues the prompt
    (HUMANEVAL, fenced("python", "def total(xs: List[int]) -> int:\n    return sum(xs)"), 1.0, "AC"),  # prompt's import
    (HUMANEVAL, fenced("python", "def total(xs):\n    return sum(xs) + 1"), 0.0, "WA"),
    (HUMANEVAL, "    return sum(xs) +\n", 0.0, "CE"),
    (HUMANEVAL, fenced("python", "import sys\nsys.exit(0)"), 0.0, "WA"),  # exits before the tests
    (HUMANEVAL, fenced("python", "import os\ndef total(xs):\n    os._exit(0)"), 0.0, "WA"),
    (HUMANEVAL, fenced("python", "def total(xs):\n    while True:\n        pass"), 0.0, "TLE"),
    (HUMANEVAL, fenced("python", "def total(xs):\n    return xs.nope()"), 0.0, "RE"),
    (MBPP, fenced("py", "def is_even(n):\n    return n % 2 == 0"), 1.0, "AC"),
    (MBPP, fenced("py", "def is_even(n):\n    return True"), 0.0, "WA"),
    (MBPP, fenced("py", "is_even = lambda n: not n & 1"), 1.0, "AC"),
])
def test_verdicts(task, completion, reward, verdict):
    result = score(ENV, {**task, "time_limit_s": 0.5}, completion)
    assert (result.reward, result.status, result.details["verdict"]) == (reward, Status.OK, verdict), result.details


def test_a_failed_assertion_shows_the_traceback():
    result = score(ENV, HUMANEVAL, fenced("python", "def total(xs):\n    return 5"))
    failure = result.details["first_failure"]
    assert failure["message"] == "a test assertion failed" and "AssertionError" in failure["stderr"]


def test_no_code_is_no_answer():
    assert score(ENV, HUMANEVAL, " \n").status == Status.NO_ANSWER


def test_invalid_test_code_is_an_invalid_task():
    with pytest.raises(InvalidTask, match="Expected the task's test to be valid Python"):
        score(ENV, {**HUMANEVAL, "test": "def check(candidate:\n"}, "    return 0\n")
    status, _ = executed(ENV, {**HUMANEVAL, "entry_point": "not an identifier"}, "    return 0\n")
    assert status == Status.INVALID_TASK


@pytest.mark.parametrize(("code", "name", "found"), [
    ("def f(x):\n    return x", "f", True),
    ("async def f():\n    pass", "f", True),
    ("class f:\n    pass", "f", True),
    ("f = lambda x: x", "f", True),
    ("f: int = 3", "f", True),
    ("    return f(x)", "f", False),
    ("def fg(x):\n    pass", "f", False),
    ("f == 3", "f", False),
])
def test_defines(code, name, found):
    assert defines(code, name) is found


def test_the_prompt_goes_first_unless_it_is_not_python_and_the_code_is_complete():
    task = ENV.parse_task(HUMANEVAL)
    assert solution_source(task, "    return 1\n").startswith(HUMANEVAL["prompt"])
    assert solution_source(task, "def total(xs):\n    return 1").startswith(HUMANEVAL["prompt"])
    broken = ENV.parse_task({**HUMANEVAL, "prompt": "def total(xs):\n"})  # a header only: not valid alone
    assert solution_source(broken, "def total(xs):\n    return 1") == "def total(xs):\n    return 1"


def test_the_harness_calls_check_only_when_the_test_defines_it():
    with_check, marker = harness_program(ENV.parse_task(HUMANEVAL), "def total(xs): return 0")
    assert "\nCALL_CHECK = True\n" in with_check and f"\nMARKER = {marker!r}\n" in with_check
    plain, _ = harness_program(ENV.parse_task(MBPP), "def is_even(n): return True")
    assert "\nCALL_CHECK = False\n" in plain
