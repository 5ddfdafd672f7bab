"""`python_function`: HumanEval / MBPP style. The solution and the task's tests become one program, run once in
the sandbox; it passes when it exits 0 after the tests ran and printed the harness's marker.

The solution runs in a process of its own, the tests in the harness's (python_function_harness.py): calls of the
entry point cross a socket and come back as plain values, so an object that claims to equal anything, builtins
the solution overrides, an early exit and a printed marker cannot pass a test. The solution can still read the
tests (its process is forked from the harness's), as in HumanEval.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

from pydantic import Field

from rewardgym.sdk import Environment, Example, InvalidTask, Score

from rewardgym_code.extract import extract_program
from rewardgym_code.judge import TestVerdict, compile_error_score, verdicts_score
from rewardgym_code.limits import MAX_TIME_LIMIT_S, LimitedTask, Limits
from rewardgym_code.python_stdio import PYTHON_TAGS, python_syntax_error
from rewardgym_code.sandbox import RunOutput, run_in_sandbox

LANGUAGE = "python"


PYTHON_FUNCTION_TIME_LIMIT_S = MAX_TIME_LIMIT_S
"""Default CPU seconds for the one program (solution + every test): 10, the most a task may ask. HumanEval's and
MBPP's harnesses allow 3 s of wall time per problem on fast machines; the slowest canonical MBPP solution of the 200
in ../shared/conformance needs 3.6 s of CPU on our 2-core VM (4.9 s when it is loaded), so 2 s rejected it."""


class PythonFunctionTask(LimitedTask):
    time_limit_s: float = Field(PYTHON_FUNCTION_TIME_LIMIT_S, gt=0,
                                description=f"CPU seconds for the whole program, at most {MAX_TIME_LIMIT_S:g} (wall: x2)")
    test: str = Field(min_length=1, description="Python that defines check(candidate), or plain asserts.")
    entry_point: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="The function under test.")
    prompt: str | None = Field(None, description="The function header (and docstring) the completion continues.")


def defines(source: str, name: str) -> bool:
    """Does `source` define `name` at top level (def, async def, class or assignment)? A line scan, not a parse:
    model code is never evaluated here and may not even be valid Python."""
    pattern = rf"^(?:(?:async\s+)?def|class)\s+{name}\b|^{name}\s*(?::[^=\n]*)?=(?!=)"
    return re.search(pattern, source, re.MULTILINE) is not None


def parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def test_defines_check(test: str) -> bool:
    """Does the task's test define a top-level `check` (HumanEval), or is it plain asserts (MBPP)?"""
    try:
        tree = ast.parse(test)
    except (SyntaxError, ValueError) as exc:
        raise InvalidTask(f"Expected the task's test to be valid Python, got {type(exc).__name__}: {exc}") from exc
    return any(isinstance(node, ast.FunctionDef) and node.name == "check" for node in tree.body)


def solution_source(task: PythonFunctionTask, code: str) -> str:
    """The solution: the prompt then the code when the code continues the prompt (it does not define the entry
    point); when it does, the prompt still goes first if it is valid Python alone (its imports and helpers)."""
    prompt = task.prompt or ""
    if not prompt or (defines(code, task.entry_point) and not parses(prompt)):
        return code
    return prompt + ("" if prompt.endswith("\n") else "\n") + code


HARNESS = Path(__file__).with_name("python_function_harness.py").read_text(encoding="utf-8")
_PLACEHOLDERS = 'SOLUTION = PROMPT = TEST = ENTRY_POINT = MARKER = ""  # replaced by the task\'s parts\nCALL_CHECK = False\n'


def harness_program(task: PythonFunctionTask, solution: str) -> tuple[str, str]:
    """The program run in the sandbox (python_function_harness.py: the solution runs in a process of its own,
    the tests in the judge's), and the marker the judge prints as its last stdout line once every test ran."""
    marker = "rewardgym-tests-passed-" + hashlib.sha256(f"{solution}\0{task.test}".encode("utf-8")).hexdigest()[:24]
    parts = (f"SOLUTION = {solution!r}\nPROMPT = {(task.prompt or '')!r}\nTEST = {task.test!r}\n"
             f"ENTRY_POINT = {task.entry_point!r}\nMARKER = {marker!r}\nCALL_CHECK = {test_defines_check(task.test)!r}\n")
    if HARNESS.count(_PLACEHOLDERS) != 1:
        raise RuntimeError("Expected the harness's placeholders in python_function_harness.py, found none")
    return HARNESS.replace(_PLACEHOLDERS, parts), marker


def judge_run(run: RunOutput, marker: str) -> TestVerdict:
    expected = "exit 0 after every test ran"
    if run.verdict == "OK":
        if run.stdout.rstrip("\n").endswith(marker):
            return TestVerdict("AC", run)
        return TestVerdict("WA", run, expected, "the program exited before the tests finished")
    if run.verdict == "RE" and "AssertionError" in run.stderr:
        return TestVerdict("WA", run, expected, "a test assertion failed")
    return TestVerdict(run.verdict, run, expected, run.reason)


class PythonFunctionEnv(Environment[PythonFunctionTask]):
    name = "python_function"
    version = "1.0.0"
    description = (
        "Python functions checked by unit tests (HumanEval / MBPP). Task: test (defines check(candidate), called "
        "with the entry point, or holds plain asserts), entry_point, optional prompt (the function header the "
        "completion may continue). Extraction: the last ```python / ```py block, else the last fenced block, else "
        "the whole text (indentation kept); nothing to run -> no_answer. If the code does not define the entry "
        "point it continues the prompt; otherwise the prompt still goes first when it is valid Python alone. "
        "Solution + tests run as one program in the sandbox (python3 -I -S, standard library only; 2 s CPU and "
        "256 MB by default, up to 10 s and 1024 MB). Reward: 1.0 if it exits 0 after every test ran, else 0.0 "
        "(details: WA for a failed assertion or an early exit, RE, TLE, MLE, OLE). The tests are visible to the "
        "solution, as in HumanEval. A sandbox failure is status error (reward null)."
    )
    Task = PythonFunctionTask
    timeout_s = 60.0
    max_timeout_s = 300.0

    def score(self, task: PythonFunctionTask, completion: str) -> Score:
        limits = Limits.of(task)
        program = extract_program(completion, PYTHON_TAGS)
        if program is None:
            return Score.no_answer("Expected Python code in the completion, found none")
        source, marker = harness_program(task, solution_source(task, program.source))
        result = run_in_sandbox(LANGUAGE, source, [limits.test("")], stop_on_first_failure=True,
                                budget_s=self.max_timeout_s)
        if (message := python_syntax_error(result)) is not None:
            return compile_error_score(program, LANGUAGE, message, 1, partial=False)
        verdicts = [judge_run(run, marker) for run in result.runs]
        return verdicts_score(program, LANGUAGE, verdicts, 1, partial=False)

    def examples(self) -> list[Example[PythonFunctionTask]]:
        humaneval = PythonFunctionTask(
            prompt='def add(a: int, b: int) -> int:\n    """Return the sum of a and b."""\n',
            test="def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
            entry_point="add",
        )
        mbpp = PythonFunctionTask(test="assert first_even([1, 3, 4, 6]) == 4\nassert first_even([1]) is None\n",
                                  entry_point="first_even")
        return [
            Example(humaneval, "    return a + b\n", 1.0),
            Example(humaneval, "```python\ndef add(a, b):\n    return a - b\n```", 0.0),
            Example(mbpp, "```py\ndef first_even(xs):\n    return next((x for x in xs if x % 2 == 0), None)\n```", 1.0),
        ]
