"""The code family's one boundary to the sandbox: jobs go out through `rewardgym_sandboxes.pool.default_pool()` as
the sandbox package's typed `JobSpec`, and come back checked as its `JobResult` (rewardgym_sandboxes.results).
Model code never runs in this process. `SandboxFailure` is deliberately not `InvalidTask`: the worker reports it as
status `error` with reward null (never 0).
"""

from __future__ import annotations

from typing import Any

from rewardgym_sandboxes.results import JobResult, JobSpec, RunOutput, SandboxFailure, TestSpec, job_message, parse_result

from rewardgym_code.limits import COMPILE_TIME_LIMIT_S

__all__ = ["JobResult", "RunOutput", "SandboxFailure", "run_in_sandbox"]

JOB_SLACK_S = 15.0
"""Added to the sum of a job's wall limits (queueing, compile start, transfer)."""
JOB_ATTEMPTS = 2
"""The pool retries a job once on another slot after a sandbox fault; its timeout covers both attempts."""


def default_pool() -> Any:
    """The process-wide sandbox pool (imported late: only scoring processes start one)."""
    from rewardgym_sandboxes.pool import default_pool as process_pool

    return process_pool()


def run_in_sandbox(language: str, source: str, tests: list[TestSpec], *,
                   stop_on_first_failure: bool, budget_s: float | None = None) -> JobResult:
    """Compile `source` once and run it on every test, in the sandbox. Raises `SandboxFailure` on any fault.

    The job may take what its limits need (compile + every test's wall limit + slack, for two attempts), and at
    most `budget_s`: the environment's longest item deadline (`max_timeout_s`; the item's own deadline does
    not reach this process). The pool passes what is left of it to the supervisor as the job's `deadline_s`,
    and when the worker kills this process at the item's real deadline, the supervisor sees its caller hang
    up and stops the job at once, so the slot is free for the next item (sandboxes/README.md)."""
    job = JobSpec(language, source, tests, stop_on_first_failure=stop_on_first_failure,
                  compile_time_limit_s=COMPILE_TIME_LIMIT_S)
    timeout_s = JOB_ATTEMPTS * (COMPILE_TIME_LIMIT_S + sum(test.wall_limit_s for test in tests) + JOB_SLACK_S)
    if budget_s is not None:
        timeout_s = min(timeout_s, budget_s)
    try:
        result = default_pool().run(job_message(job), timeout_s)
    except Exception as exc:  # the pool's own failures (import, transport, bugs) are sandbox failures too
        raise SandboxFailure(f"the sandbox pool failed: {type(exc).__name__}: {exc}") from exc
    return parse_result(result, len(tests), stop_on_first_failure)


