"""Other projects' labelled grader tests (`../shared/conformance/`) scored by the `math` environment in-process.

    .venv/bin/python -m tests.math.conformance [--all]   # agreement, false positives, every disagreement

The labels are the peers' (Math-Verify, NeMo-Skills, inspect_ai, hendrycks MATH, verl); a case agrees when
`(reward >= 0.5) == expect`, and a null reward (invalid task, error, timeout) is a disagreement, as in the shared
runner `run.py`. Each item runs under a SIGALRM deadline (the worker's hard deadline, in-process).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rewardgym.sdk import InvalidTask
from rewardgym_math.math_env import MathEnv, MathTask

CONFORMANCE_DIR = Path(os.environ.get("REWARDGYM_CONFORMANCE_DIR")
                       or Path(__file__).resolve().parents[3] / "shared" / "conformance")
"""`../shared/conformance` beside the repository, or wherever REWARDGYM_CONFORMANCE_DIR points."""
MATH_FILES = ("hendrycks_math.jsonl", "inspect_ai.jsonl", "math_verify.jsonl", "nemo_skills.jsonl", "verl.jsonl")
ITEM_DEADLINE_S = 10


@dataclass(frozen=True)
class Outcome:
    case: dict
    reward: float | None
    status: str
    details: dict

    @property
    def agrees(self) -> bool:
        return self.reward is not None and int(self.reward >= 0.5) == self.case["expect"]

    @property
    def false_positive(self) -> bool:
        return self.case["expect"] == 0 and self.reward is not None and self.reward >= 0.5


class _Deadline(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Deadline


def math_cases(directory: Path = CONFORMANCE_DIR, *, main_only: bool = True) -> list[dict]:
    """The math cases of the conformance files, main cases only unless `main_only=False`."""
    cases = []
    for name in MATH_FILES:
        for line in (directory / name).read_text().splitlines():
            if line.strip():
                case = json.loads(line)
                if case.get("main", True) or not main_only:
                    cases.append(case)
    return cases


def score_case(env: MathEnv, case: dict) -> Outcome:
    """One case, as the worker would report it: invalid task, error and timeout give a null reward."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(ITEM_DEADLINE_S)
    try:
        score = env.score(MathTask(answer=case["gold"]), case["completion"])
        return Outcome(case, score.reward, str(score.status.value), dict(score.details))
    except InvalidTask as exc:
        return Outcome(case, None, "invalid_task", {"message": str(exc)})
    except _Deadline:
        return Outcome(case, None, "timeout", {})
    except Exception as exc:  # noqa: BLE001 - the worker reports any other failure as status error
        return Outcome(case, None, "error", {"message": f"{type(exc).__name__}: {exc}"})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def score_all(cases: list[dict]) -> Iterator[Outcome]:
    env = MathEnv()
    for case in cases:
        yield score_case(env, case)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="also the non-main cases (grader options, prose)")
    args = parser.parse_args()
    outcomes = list(score_all(math_cases(main_only=not args.all)))
    for o in outcomes:
        if not o.agrees:
            c = o.case
            print(f"{c['id']} main={c.get('main', True)} expect={c['expect']} reward={o.reward} status={o.status} "
                  f"gold={c['gold']!r} completion={c['completion'][-120:]!r} extracted={o.details.get('extracted')!r}")
    agreed = sum(o.agrees for o in outcomes)
    false_positives = sum(o.false_positive for o in outcomes)
    print(f"agreement {agreed}/{len(outcomes)} ({100 * agreed / len(outcomes):.1f}%), false positives {false_positives}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
