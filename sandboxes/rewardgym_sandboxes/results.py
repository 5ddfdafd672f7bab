"""The caller's side of the sandbox protocol: a job as typed values (`JobSpec`, `TestSpec`, the supervisor's own
types) going out, and a checked, typed `JobResult` coming back. Standard library only.

    job = JobSpec("python", source, [TestSpec(stdin="1\\n")], stop_on_first_failure=True)
    result = parse_result(default_pool().run(job_message(job), timeout_s), sent=1, stop_on_first_failure=True)

Exceptions:

    SandboxFailure   the sandbox could not judge the program: verdict IE, a missing or garbled result. An
                     infrastructure failure, never the program's fault (its callers report it as `error`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .pool import tests_key
from .supervisor.protocol import JobSpec, TestSpec

__all__ = ["JobResult", "JobSpec", "RunOutput", "SandboxFailure", "TestSpec", "job_message", "parse_result"]


def job_message(job: JobSpec) -> dict[str, Any]:
    """The wire form of `job` (sandboxes/README.md), with the `tests_key` that lets a slot cache its tests."""
    message = asdict(job)
    if message["deadline_s"] is None:
        del message["deadline_s"]
    message["tests_key"] = tests_key(message["tests"])
    return message


RUN_VERDICTS = frozenset({"OK", "TLE", "MLE", "RE", "OLE"})
"""Verdicts of one test run. `OK` means exit 0; whether the output is right is decided here, not in the sandbox."""
JOB_VERDICTS = RUN_VERDICTS | {"CE"}


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
class JobResult:
    verdict: str
    """OK, CE, or the first failing run's verdict."""
    runs: list[RunOutput]
    """One per test run, in order; fewer than sent after `stop_on_first_failure`, none after CE."""
    compile_message: str | None = None


def parse_result(result: Any, sent: int, stop_on_first_failure: bool) -> JobResult:
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
        return JobResult("CE", [], str(compiled.get("message", "")))
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
    return JobResult(verdict, runs)


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
