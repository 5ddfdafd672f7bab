"""Fuzz every operation of a live OpenAPI schema with schemathesis, collecting failures instead of stopping.

Shared by tests/test_fuzz.py (bounded examples) and bench/fuzz.py (the longer run). Driven through hypothesis
directly rather than schemathesis' pytest plugin, so one call covers every operation and reports all of them.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


@dataclass
class FuzzReport:
    """What one fuzzing run sent and what came back: status codes per operation, and every failing check."""

    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)
    unsatisfiable: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"cases": self.cases, "server_errors": self.server_errors, "failures": self.failures,
                "unsatisfiable": self.unsatisfiable,
                "statuses": {str(code): n for code, n in sorted(self.statuses.items())}}


def fuzz_schema(url: str, *, examples: int, known_envs: Sequence[str] = (), headers: dict[str, str] | None = None,
                tag: str | None = None, expect_statuses: Sequence[int] | None = None,
                timeout_s: float = 60) -> FuzzReport:
    """Send `examples` positive and `examples` negative cases to every operation of `url`'s /openapi.json.

    Every other case whose path names an `env` gets one of `known_envs`, so its body reaches a real route's parser
    instead of stopping at 404. `expect_statuses`, when given, is the only status codes allowed (e.g. 401/403 for
    admin routes without the token).
    """
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    if tag is not None:
        schema = schema.include(tag=tag)
    report = FuzzReport()
    turn = itertools.count()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case: schemathesis.Case) -> None:
                if known_envs and "env" in (case.path_parameters or {}) and next(turn) % 2 == 0:
                    case.path_parameters["env"] = known_envs[next(turn) % len(known_envs)]
                report.cases += 1
                response = case.call(headers=headers, timeout=timeout_s)
                report.statuses[response.status_code] += 1
                report.server_errors += response.status_code >= 500
                if expect_statuses is not None and response.status_code not in expect_statuses:
                    report.failures.append(f"{operation.label} [{mode.value}]: expected status in "
                                           f"{list(expect_statuses)}, got {response.status_code}")
                try:
                    case.validate_response(response, checks=CHECKS)
                except Exception as exc:  # noqa: BLE001 - a failing check is a finding to report, with its case
                    report.failures.append(f"{operation.label} [{mode.value}]: {_first_line(exc)}")
                    raise

            failures_before = len(report.failures)
            try:
                run()
            except Unsatisfiable:  # e.g. no invalid value exists for a path-only operation: nothing to send
                report.unsatisfiable.append(f"{operation.label} [{mode.value}]")
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - recorded; go on with the next one
                if len(report.failures) == failures_before:  # not a failing check: the fuzzer itself failed
                    report.failures.append(f"{operation.label} [{mode.value}]: could not fuzz: {_first_line(exc)}")
    return report


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return "\n".join(text.splitlines()[:12])[:1500] or type(exc).__name__
