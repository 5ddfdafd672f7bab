"""The jobs a worker's scoring processes run, what comes back, and how both cross the pool's channel.

Both travel as JSON (UTF-8, lone surrogates passed through): a job is JSON already (it came in a request), so JSON
carries whatever nesting the request parser accepted, where pickle recursed twice as deep per level and failed on
tasks a few hundred levels deep (issue 7, finding 1). A result that cannot be JSON (an environment returned NaN or
an object in its details) fails in the scoring process, as that item's `error`, not later as a 500 for the request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rewardgym import json_codec
from rewardgym.protocol import Status


@dataclass(frozen=True)
class ScoreJob:
    env: str
    task: dict[str, Any]
    completion: str


@dataclass(frozen=True)
class GenerateJob:
    env: str
    seed: int
    index: int
    options: dict[str, Any]


@dataclass(frozen=True)
class StepJob:
    """A session's step: replay `actions` (the last one is the step played) from the game of (seed, options)."""

    env: str
    seed: int
    options: dict[str, Any]
    actions: list[str]


Job = ScoreJob | GenerateJob | StepJob


@dataclass(frozen=True)
class Outcome:
    """What a job produced. For scoring, `value` holds status/reward/components/details; for generation,
    prompt/task (or status/message when it failed)."""

    status: Status
    value: dict[str, Any]
    elapsed_ms: float
    slot: int | None = None
    """The pool slot whose process ran it (None when it never reached one): a hint for where a session's next
    step finds its game still in memory."""


@dataclass(frozen=True)
class Report:
    """What a scoring process sends back for one job: its outcome, its memory, and when it finished."""

    status: Status
    value: dict[str, Any]
    rss_kb: int
    """Resident memory after the job; -1 when not read (the process had more jobs in hand)."""
    finished_at: float
    """CLOCK_MONOTONIC (shared by all processes): when the job queued behind this one started."""


def encode_job(job: Job) -> bytes:
    if isinstance(job, ScoreJob):
        return _dumps(["score", job.env, job.task, job.completion], allow_nan=True)
    if isinstance(job, StepJob):
        return _dumps(["step", job.env, job.seed, job.options, job.actions], allow_nan=True)
    return _dumps(["generate", job.env, job.seed, job.index, job.options], allow_nan=True)


def decode_job(message: bytes) -> Job:
    kind, *fields = _loads(message)
    if kind == "score":
        return ScoreJob(*fields)
    if kind == "generate":
        return GenerateJob(*fields)
    if kind == "step":
        return StepJob(*fields)
    raise ValueError(f"Expected a job of kind 'score', 'generate' or 'step', got {kind!r}")


def encode_report(report: Report) -> bytes:
    return _dumps([report.status.value, report.value, report.rss_kb, report.finished_at], allow_nan=False)


def decode_report(message: bytes) -> Report:
    status, value, rss_kb, finished_at = _loads(message)
    if not isinstance(value, dict):
        raise ValueError(f"Expected a result object, got {type(value).__name__}")
    return Report(Status(status), value, int(rss_kb), float(finished_at))


def _dumps(value: Any, allow_nan: bool) -> bytes:
    """`allow_nan`: jobs may carry the infinities the request parser accepted (1e999); results must be JSON."""
    return json_codec.dumps(value, lambda slow: json.dumps(
        slow, ensure_ascii=False, allow_nan=allow_nan, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def _loads(message: bytes) -> Any:
    return json_codec.loads(message, lambda slow: json.loads(slow.decode("utf-8", "surrogatepass")))
