"""Sandbox faults are infrastructure failures: `SandboxFailure` from score(), status error with reward null
through the worker, never a 0. A fake pool stands in for the sandbox (no real fault needed)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from code_support import executed, fenced

import rewardgym_code.sandbox as sandbox
from rewardgym.protocol import Status
from rewardgym.sdk import InvalidTask
from rewardgym_code.cpp_stdio import CppStdioEnv
from rewardgym_code.python_function import PythonFunctionEnv
from rewardgym_code.python_stdio import PythonStdioEnv
from rewardgym_code.sandbox import SandboxFailure
from rewardgym_code.sql import SqlEnv

TASK = {"tests": [{"input": "1\n", "output": "2\n"}, {"input": "2\n", "output": "4\n"}]}
PROGRAM = fenced("python", "print(2 * int(input()))")


def run(stdout: str, verdict: str = "OK") -> dict[str, Any]:
    return {"verdict": verdict, "reason": None, "exit_code": 0, "signal": None, "cpu_ms": 5, "wall_ms": 7,
            "memory_kb": 9000, "stdout": stdout, "stdout_truncated": False, "stderr": ""}


GOOD = {"verdict": "OK", "compile": None, "tests": [run("2\n"), run("4\n")]}


class FakePool:
    def __init__(self, result: Any = None, error: Exception | None = None):
        self.result, self.error, self.jobs = result, error, []

    def run(self, job: dict, timeout_s: float) -> dict:
        self.jobs.append((job, timeout_s))
        if self.error is not None:
            raise self.error
        return copy.deepcopy(self.result)


@pytest.fixture
def fake_pool(monkeypatch):
    def install(result: Any = None, error: Exception | None = None) -> FakePool:
        pool = FakePool(result, error)
        monkeypatch.setattr(sandbox, "default_pool", lambda: pool)
        return pool
    return install


def test_the_fake_pool_path_scores_normally(fake_pool):
    pool = fake_pool(GOOD)
    status, payload = executed(PythonStdioEnv(), TASK, PROGRAM)
    assert (status, payload["reward"]) == (Status.OK, 1.0)
    (job, timeout_s), = pool.jobs
    assert job["language"] == "python" and job["stop_on_first_failure"] is True
    assert timeout_s >= 10 + 2 * 4  # compile + every test's wall limit


def test_jobs_carry_tests_key_and_never_the_expected_output(fake_pool):
    from rewardgym_sandboxes.pool import tests_key
    pool = fake_pool(GOOD)
    executed(PythonStdioEnv(), TASK, PROGRAM)
    job, _ = pool.jobs[0]
    assert job["tests_key"] == tests_key(job["tests"])
    assert [set(test) for test in job["tests"]] == [
        {"stdin", "time_limit_s", "wall_limit_s", "memory_limit_mb", "output_limit_bytes"}] * 2
    assert "2\n" not in str(job["tests"]) and "4\n" not in str(job["tests"])
    executed(PythonStdioEnv(), TASK, fenced("python", "print(0)"))
    assert pool.jobs[1][0]["tests_key"] == job["tests_key"]  # one group, one key


GARBLED = [
    ("IE", {"verdict": "IE", "error": "no sandbox slot available"}, "sandbox internal error: no sandbox slot"),
    ("not a dict", None, "Expected a sandbox result object"),
    ("no verdict", {}, "Expected a job verdict"),
    ("unknown verdict", {**GOOD, "verdict": "AC"}, "Expected a job verdict"),
    ("tests missing", {"verdict": "OK", "compile": None}, "Expected a list of test results"),
    ("too few tests", {**GOOD, "tests": [run("2\n")]}, "Expected 2 test results, got 1"),
    ("test IE", {**GOOD, "verdict": "IE", "tests": [run("2\n"), run("", "IE")]}, "sandbox internal error"),
    ("run IE only", {**GOOD, "tests": [run("2\n"), run("", "IE")]}, "sandbox internal error in test 1"),
    ("no stdout", {**GOOD, "tests": [run("2\n"), {"verdict": "OK"}]}, "Expected test result 1"),
    ("inconsistent", {**GOOD, "tests": [run("2\n"), run("", "RE")]}, "Expected the job verdict RE"),
    ("CE without details", {"verdict": "CE", "tests": []}, "Expected compile details"),
    ("failed compile", {**GOOD, "compile": {"verdict": "IE"}}, "Expected a successful compile"),
]


@pytest.mark.parametrize(("case", "result", "message"), GARBLED, ids=[g[0] for g in GARBLED])
def test_ie_and_garbled_results_are_errors_never_zero(fake_pool, case, result, message):
    fake_pool(result)
    env = PythonStdioEnv()
    with pytest.raises(SandboxFailure, match=message) as caught:
        env.score(env.parse_task(TASK), PROGRAM)
    assert not isinstance(caught.value, InvalidTask)
    status, payload = executed(env, TASK, PROGRAM)
    assert status == Status.ERROR and "reward" not in payload
    assert payload["message"].startswith("SandboxFailure: ")


def test_a_pool_that_raises_is_an_error(fake_pool):
    fake_pool(error=ConnectionResetError("gone"))
    status, payload = executed(CppStdioEnv(), TASK, fenced("cpp", "int main() {}"))
    assert status == Status.ERROR and "ConnectionResetError: gone" in payload["message"]


def test_an_early_stop_after_a_failure_is_a_valid_result(fake_pool):
    fake_pool({"verdict": "RE", "compile": None, "tests": [run("", "RE")]})
    status, payload = executed(PythonStdioEnv(), TASK, PROGRAM)
    assert (status, payload["reward"], payload["details"]["verdict"]) == (Status.OK, 0.0, "RE")


@pytest.mark.parametrize("env, task, completion", [
    (PythonFunctionEnv(), {"test": "assert f() == 1", "entry_point": "f"}, "def f():\n    return 1\n"),
    (SqlEnv(), {"database": "CREATE TABLE t(a);", "expected_rows": []}, "SELECT a FROM t"),
    (SqlEnv(), {"database": "CREATE TABLE t(a);", "reference_query": "SELECT 1 AS ie_test"}, "SELECT a FROM t"),
], ids=["python_function", "sql", "sql-reference"])
def test_every_environment_maps_ie_to_error(fake_pool, env, task, completion):
    fake_pool({"verdict": "IE", "error": "supervisor: boom"})
    status, payload = executed(env, task, completion)
    assert status == Status.ERROR and "reward" not in payload and "boom" in payload["message"]


def test_a_job_stopped_at_its_deadline_is_an_error_never_zero(fake_pool):
    fake_pool({"verdict": "IE", "error": "stopped: deadline", "stopped": "deadline"})
    status, payload = executed(PythonStdioEnv(), TASK, PROGRAM)
    assert status == Status.ERROR and "reward" not in payload and "deadline" in payload["message"]


def test_the_job_budget_never_passes_the_environments_longest_item_deadline(fake_pool):
    """Issue 7, finding 4: what the pool may spend (and tells the supervisor as the job's deadline) is bounded by
    the environment's max_timeout_s, however many tests; the item's own deadline arrives as a hang-up."""
    env = PythonStdioEnv()
    many = {"tests": [{"input": f"{i}\n", "output": f"{2 * i}\n"} for i in range(200)], "time_limit_s": 10}
    pool = fake_pool({"verdict": "OK", "compile": None, "tests": [run(f"{2 * i}\n") for i in range(200)]})
    status, payload = executed(env, many, PROGRAM)
    assert (status, payload["reward"]) == (Status.OK, 1.0)
    (_, timeout_s), = pool.jobs
    assert timeout_s == env.max_timeout_s  # 200 tests x 20 s of wall limit would be ~8,000 s
    small = fake_pool(GOOD)
    executed(env, TASK, PROGRAM)
    assert small.jobs[0][1] < env.max_timeout_s  # a small job: its own limits bound it
