"""What the stdin/stdout environments share: the task model and the judge. Each language is a small subclass
(`python_stdio`, `cpp_stdio`, `c_stdio`, `javascript_stdio`) naming its sandbox language and fence tags."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from rewardgym.sdk import Environment, Score, TaskModel

from rewardgym_code.compare import DEFAULT_FLOAT_TOLERANCE, ComparatorName, compare
from rewardgym_code.extract import extract_program
from rewardgym_code.judge import TestVerdict, compile_error_score, verdicts_score
from rewardgym_code.limits import MAX_TESTS, LimitedTask, Limits
from rewardgym_code.sandbox import RunOutput, JobResult, run_in_sandbox


class StdioTest(TaskModel):
    input: str = Field("", description="The test's stdin.")
    output: str = Field(description="The expected stdout, compared by the task's comparator.")


class StdioTask(LimitedTask):
    tests: list[StdioTest] = Field(min_length=1, max_length=MAX_TESTS)
    comparator: ComparatorName = Field("tokens", description="tokens (default), lines, exact or float.")
    float_tolerance: float = Field(DEFAULT_FLOAT_TOLERANCE, ge=0, le=1,
                                   description="Absolute-or-relative tolerance of the float comparator.")
    partial: bool = Field(False, description="Reward the fraction of tests passed instead of all-or-nothing.")


def judge_run(run: RunOutput, test: StdioTest, task: StdioTask) -> TestVerdict:
    if run.verdict != "OK":
        return TestVerdict(run.verdict, run, test.output, run.reason)
    comparison = compare(test.output, run.stdout, task.comparator, tolerance=task.float_tolerance)
    return TestVerdict("AC" if comparison.equal else "WA", run, test.output, comparison.message)


def stdio_description(language: str, runner: str, tags: str) -> str:
    return (
        f"{language} programs reading stdin and writing stdout, judged in the sandbox ({runner}) against the task's "
        f"tests. Extraction: the last ```{tags} block, else the last fenced block of any language, else the whole "
        "text; nothing to run -> no_answer. Output compared per test by the task's comparator (tokens by default; "
        "lines, exact, float with tolerance). Reward: 1.0 if every test passes, else 0.0; with partial=true the "
        "fraction passed. CE, RE, TLE, MLE, OLE score 0 with status ok; a sandbox failure is status error "
        "(reward null). Limits per test: 2 s CPU, 4 s wall, 256 MB, 1 MB of output by default, up to 10 s and "
        "1024 MB."
    )


class StdioEnvironment(Environment[StdioTask]):
    """A program run once per test: compile once, run every test, compare each stdout."""

    language: ClassVar[str]
    """The sandbox's language name (sandboxes/rewardgym_sandboxes/supervisor/languages.py)."""
    fence_tags: ClassVar[frozenset[str]]
    """Fence info strings that mark a block as this language (lower case)."""
    Task = StdioTask
    timeout_s = 60.0
    max_timeout_s = 300.0

    def score(self, task: StdioTask, completion: str) -> Score:
        limits = Limits.of(task)
        program = extract_program(completion, self.fence_tags)
        if program is None:
            return Score.no_answer(f"Expected a {self.language} program in the completion, found none")
        tests = [limits.test(test.input) for test in task.tests]
        result = run_in_sandbox(self.language, program.source, tests, stop_on_first_failure=not task.partial,
                                budget_s=self.max_timeout_s)
        if (message := self.compile_error(result)) is not None:
            return compile_error_score(program, self.language, message, len(tests), task.partial)
        verdicts = [judge_run(run, test, task) for run, test in zip(result.runs, task.tests)]
        return verdicts_score(program, self.language, verdicts, len(tests), task.partial)

    def compile_error(self, result: JobResult) -> str | None:
        """The compiler's message when the program did not compile, else None."""
        return (result.compile_message or "") if result.verdict == "CE" else None


EXAMPLE_TASK = StdioTask(tests=[
    StdioTest(input="3\n1 2 3\n", output="6\n"),
    StdioTest(input="1\n-5\n", output="-5\n"),
    StdioTest(input="4\n10 20 30 40\n", output="100\n"),
])
"""The task of every stdio environment's worked examples: read n, then n integers; print their sum."""
