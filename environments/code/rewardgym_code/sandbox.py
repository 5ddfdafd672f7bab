"""The one boundary to the sandbox: jobs go out through `rewardgym_sandboxes.pool.default_pool()` and every result is
checked here. Model code never runs in this process.

Exceptions:

    SandboxFailure   the sandbox could not judge the program: verdict IE, a pool that raised, a missing or
                     garbled result. An infrastructure failure: deliberately not `InvalidTask`, so the worker
                     reports status `error` with reward null (never 0).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from rewardgym_code.limits import COMPILE_TIME_LIMIT_S

RUN_VERDICTS = frozenset({"OK", "TLE", "MLE", "RE", "OLE"})
"""Verdicts of one test run. `OK` means exit 0; whether the output is right is decided here, not in the sandbox."""
JOB_VERDICTS = RUN_VERDICTS | {"CE"}
JOB_SLACK_S = 15.0
"""Added to the sum of a job's wall limits (queueing, compile start, transfer)."""
JOB_ATTEMPTS = 2
"""The pool retries a job once on another slot after a sandbox fault; its timeout covers both attempts."""


class SandboxFailure(Exception):
    """The sandbox could not judge the program (IE, no result, a garbled result): never the model's fault."""


@dataclass(frozen=True)
class RunOutput:
    """One test run as the sandbox reports it."""

    verdict: str
    reason: str | None
    cpu_ms: int
    wall_ms: int
    memory_kb: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class SandboxResult:
    verdict: str
    """OK, CE, or the first failing run's verdict."""
    runs: list[RunOutput]
    """One per test run, in order; fewer than sent after `stop_on_first_failure`, none after CE."""
    compile_message: str | None = None


def default_pool() -> Any:
    """The process-wide sandbox pool (imported late: the catalogue of this family loads without `sandboxes`)."""
    from rewardgym_sandboxes.pool import default_pool as process_pool

    return process_pool()


def tests_key(tests: list[dict[str, Any]]) -> str:
    """sha256 of the tests' canonical JSON: the sandbox caches test data under it, so the tests of a group
    travel once per group, not once per completion."""
    canonical = json.dumps(tests, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def run_in_sandbox(language: str, source: str, tests: list[dict[str, Any]], *,
                   stop_on_first_failure: bool, budget_s: float | None = None) -> SandboxResult:
    """Compile `source` once and run it on every test, in the sandbox. Raises `SandboxFailure` on any fault.

    The job may take what its limits need (compile + every test's wall limit + slack, for two attempts), and at
    most `budget_s`: the environment's longest item deadline (`max_timeout_s`; the item's own deadline does
    not reach this process). The pool passes what is left of it to the supervisor as the job's `deadline_s`,
    and when the worker kills this process at the item's real deadline, the supervisor sees its caller hang
    up and stops the job at once, so the slot is free for the next item (sandboxes/README.md)."""
    job = {
        "language": language,
        "source": source,
        "tests": tests,
        "tests_key": tests_key(tests),
        "stop_on_first_failure": stop_on_first_failure,
        "compile_time_limit_s": COMPILE_TIME_LIMIT_S,
    }
    timeout_s = JOB_ATTEMPTS * (COMPILE_TIME_LIMIT_S + sum(test["wall_limit_s"] for test in tests) + JOB_SLACK_S)
    if budget_s is not None:
        timeout_s = min(timeout_s, budget_s)
    try:
        result = default_pool().run(job, timeout_s)
    except Exception as exc:  # the pool's own failures (import, transport, bugs) are sandbox failures too
        raise SandboxFailure(f"the sandbox pool failed: {type(exc).__name__}: {exc}") from exc
    return parse_result(result, len(tests), stop_on_first_failure)


def parse_result(result: Any, sent: int, stop_on_first_failure: bool) -> SandboxResult:
    """Check a result against the protocol (sandboxes/README.md); anything else is a `SandboxFailure`."""
    if not isinstance(result, dict):
        raise SandboxFailure(f"Expected a sandbox result object, got {type(result).__name__}")
    verdict = result.get("verdict")
    if verdict == "IE":
        raise SandboxFailure(f"sandbox internal error: {result.get('error') or 'no message'}")
    if verdict not in JOB_VERDICTS:
        raise SandboxFailure(f"Expected a job verdict in {sorted(JOB_VERDICTS | {'IE'})}, got {verdict!r}")
    compiled = result.get("compile")
    if verdict == "CE":
        if not isinstance(compiled, dict) or compiled.get("verdict") != "CE":
            raise SandboxFailure(f"Expected compile details with verdict CE, got {compiled!r:.200}")
        return SandboxResult("CE", [], str(compiled.get("message", "")))
    if compiled is not None and (not isinstance(compiled, dict) or compiled.get("verdict") != "OK"):
        raise SandboxFailure(f"Expected a successful compile before the runs, got {compiled!r:.200}")
    raw_runs = result.get("tests")
    if not isinstance(raw_runs, list):
        raise SandboxFailure(f"Expected a list of test results, got {type(raw_runs).__name__}")
    runs = [_run_output(raw, index) for index, raw in enumerate(raw_runs)]
    complete = len(runs) == sent
    stopped_early = stop_on_first_failure and 0 < len(runs) < sent and runs[-1].verdict != "OK"
    if not (complete or stopped_early):
        raise SandboxFailure(f"Expected {sent} test results, got {len(runs)}")
    first_failure = next((run.verdict for run in runs if run.verdict != "OK"), "OK")
    if first_failure != verdict:
        raise SandboxFailure(f"Expected the job verdict {first_failure} of its first failing test, got {verdict}")
    return SandboxResult(verdict, runs)


def _run_output(raw: Any, index: int) -> RunOutput:
    if not isinstance(raw, dict):
        raise SandboxFailure(f"Expected test result {index} to be an object, got {type(raw).__name__}")
    if raw.get("verdict") == "IE":
        raise SandboxFailure(f"sandbox internal error in test {index}: {raw.get('error') or raw.get('reason')}")
    if raw.get("verdict") not in RUN_VERDICTS or not isinstance(raw.get("stdout"), str):
        raise SandboxFailure(f"Expected test result {index} with a run verdict and stdout, got {str(raw)[:200]}")
    try:
        return RunOutput(
            verdict=raw["verdict"], reason=raw.get("reason"), cpu_ms=int(raw.get("cpu_ms", 0)),
            wall_ms=int(raw.get("wall_ms", 0)), memory_kb=int(raw.get("memory_kb", 0)),
            stdout=raw["stdout"], stderr=str(raw.get("stderr", "")),
        )
    except (TypeError, ValueError) as exc:
        raise SandboxFailure(f"Expected numeric timings in test result {index}: {exc}") from exc
