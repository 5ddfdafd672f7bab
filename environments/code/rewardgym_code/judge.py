"""Turning sandbox runs into a reward: per-test verdicts, the details a user reads, and the reward formula.

Verdicts in the details: AC (exit 0, right output), WA (exit 0, wrong output), TLE, MLE, RE, OLE (from the
sandbox), and CE for the whole program. Reward: 1.0 when every test is AC, else 0.0; with `partial`, the
fraction of the task's tests that are AC. A CE scores 0 with status ok: it is the model's fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rewardgym.sdk import Score

from rewardgym_code.extract import Program
from rewardgym_code.sandbox import RunOutput

REWARD_ALL_PASSED = 1.0
REWARD_FAILED = 0.0
HEAD_CHARS = 500
COMPILE_MESSAGE_CHARS = 2000
"""How much of a failing test's stdout, stderr and expected output the details keep."""


@dataclass(frozen=True)
class TestVerdict:
    verdict: str
    """AC, WA, or the sandbox's TLE / MLE / RE / OLE."""
    run: RunOutput
    expected: str | None = None
    """What the test wanted (shown for the first failure); never sent to the sandbox."""
    message: str | None = None
    """Why it failed, in words (a comparator's message, the sandbox's reason)."""


def reward(passed: int, total: int, partial: bool) -> float:
    """The documented reward: all-or-nothing, or with `partial` the fraction of tests passed."""
    if partial:
        return passed / total
    return REWARD_ALL_PASSED if passed == total else REWARD_FAILED


def head(text: str) -> str:
    return text if len(text) <= HEAD_CHARS else text[:HEAD_CHARS] + "..."


def program_details(program: Program, language: str) -> dict[str, Any]:
    return {"language": language, "extracted_from": program.origin, "program_chars": len(program.source)}


def verdicts_score(program: Program, language: str, verdicts: list[TestVerdict], total: int, partial: bool,
                   **extra: Any) -> Score:
    """The score of a program whose tests ran (`verdicts` may be fewer than `total` after an early stop)."""
    passed = sum(v.verdict == "AC" for v in verdicts)
    failures = [v for v in verdicts if v.verdict != "AC"]
    details: dict[str, Any] = {
        **program_details(program, language),
        "verdict": failures[0].verdict if failures else "AC",
        "passed": passed,
        "total": total,
        "tests": [{"verdict": v.verdict, "cpu_ms": v.run.cpu_ms, "wall_ms": v.run.wall_ms,
                   "memory_kb": v.run.memory_kb} for v in verdicts],
        **extra,
    }
    if failures:
        first = failures[0]
        details["first_failure"] = {
            "test": verdicts.index(first),
            "verdict": first.verdict,
            "message": first.message or first.run.reason,
            "stdout": head(first.run.stdout),
            "stderr": head(first.run.stderr),
            "expected": None if first.expected is None else head(first.expected),
        }
    value = reward(passed, total, partial)
    return Score(reward=value, components=_components(passed, total, partial), details=details)


def compile_error_score(program: Program, language: str, message: str, total: int, partial: bool,
                        **extra: Any) -> Score:
    """A program that does not compile: reward 0, status ok (the model's fault), the compiler's message."""
    details = {**program_details(program, language), "verdict": "CE", "passed": 0, "total": total, "tests": [],
               "compile_message": message[:COMPILE_MESSAGE_CHARS], **extra}
    return Score(reward=REWARD_FAILED, components=_components(0, total, partial), details=details)


def _components(passed: int, total: int, partial: bool) -> dict[str, float]:
    components = {"all_passed": REWARD_ALL_PASSED if passed == total else REWARD_FAILED}
    if partial:
        components["pass_rate"] = passed / total
    return components
