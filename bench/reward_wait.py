"""How long a GRPO trainer waits for one step's rewards: client + gateway vs a direct in-process loop.

    .venv/bin/python bench/reward_wait.py [--prompts 64] [--group 16] [--repeats 3]

One step = `--prompts` tasks x `--group` pre-generated completions (so the model's speed does not enter), on `math`
and on `python_stdio`. Side by side in one run, interleaved per repeat: (a) the direct loop: the environment's
scoring called in this process, one completion after the other (what a trainer without a reward server does);
(b) `RewardClient.score_groups` against `rewardgym serve --families math,code` (the trainer's real call).
The figure is the ratio (b)/(a) of wall-clock time; the issue's target is <= 0.7. Results go to
bench/results/reward_wait.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, Server, median, save  # noqa: E402
from rewardgym.worker.execution import FamilyExecutor  # noqa: E402
from rewardgym.worker.jobs import ScoreJob  # noqa: E402
from rewardgym_client import RewardClient  # noqa: E402

Groups = list[dict[str, Any]]


def math_groups(prompts: int, group: int, seed: int = 0) -> Groups:
    """A gold fraction per prompt; completions right (several forms), wrong, or without an answer: ~40/40/20."""
    rng = random.Random(seed)
    groups = []
    for _ in range(prompts):
        value = Fraction(rng.randint(-50, 50), rng.randint(1, 12))
        gold = f"\\frac{{{value.numerator}}}{{{value.denominator}}}" if value.denominator != 1 else str(value)
        completions = []
        for _ in range(group):
            kind = rng.random()
            if kind < 0.4:
                answer = rng.choice([f"\\boxed{{{gold}}}", f"\\boxed{{{value.numerator}/{value.denominator}}}",
                                     f"<think>Simplify.</think> \\boxed{{{gold}}}"])
            elif kind < 0.8:
                wrong = value + rng.randint(1, 5)
                answer = f"\\boxed{{{wrong.numerator}/{wrong.denominator}}}"
            else:
                answer = rng.choice(["I am not sure.", "\\boxed{\\frac{1}{", "\\boxed{}"])
            completions.append(f"Let me work it out step by step. {answer}")
        groups.append({"task": {"answer": gold}, "completions": completions})
    return groups


PROGRAMS = {
    "right": "```python\nimport sys\na, b = map(int, sys.stdin.read().split())\nprint(a + b)\n```",
    "wrong": "```python\nimport sys\na, b = map(int, sys.stdin.read().split())\nprint(a - b)\n```",
    "crash": "```python\nimport sys\na, b = sys.stdin.read().split()\nprint(a + b + 1)\n```",
    "syntax": "```python\nprint(\n```",
}


def stdio_groups(prompts: int, group: int, seed: int = 0) -> Groups:
    """A+B with 3 tests per prompt; programs right, wrong, crashing or not compiling: ~50/25/15/10."""
    rng = random.Random(seed)
    groups = []
    for _ in range(prompts):
        tests = []
        for _ in range(3):
            a, b = rng.randint(-1000, 1000), rng.randint(-1000, 1000)
            tests.append({"input": f"{a} {b}\n", "output": f"{a + b}\n"})
        kinds = rng.choices(list(PROGRAMS), weights=[50, 25, 15, 10], k=group)
        groups.append({"task": {"tests": tests}, "completions": [PROGRAMS[kind] for kind in kinds]})
    return groups


def direct_loop(executor: FamilyExecutor, env: str, groups: Groups) -> tuple[float, list[str]]:
    started = time.perf_counter()
    statuses = [executor.run(ScoreJob(env, group["task"], completion))[0].value
                for group in groups for completion in group["completions"]]
    return time.perf_counter() - started, statuses


def through_gateway(client: RewardClient, env: str, groups: Groups) -> tuple[float, list[str]]:
    started = time.perf_counter()
    results = client.score_groups(env, groups)
    return time.perf_counter() - started, [r.status.value for group in results for r in group]


def measure(env: str, family: str, groups: Groups, client: RewardClient, repeats: int) -> dict[str, Any]:
    executor = FamilyExecutor.load(family)
    warm = groups[:2]
    direct_loop(executor, env, warm)  # lazy imports and the first sandbox start, as the server's warm-up does
    through_gateway(client, env, warm)
    direct_s, gateway_s = [], []
    statuses: dict[str, list[str]] = {}
    for repeat in range(repeats):
        seconds, statuses["direct"] = direct_loop(executor, env, groups)
        direct_s.append(seconds)
        seconds, statuses["gateway"] = through_gateway(client, env, groups)
        gateway_s.append(seconds)
        print(f"{env} run {repeat + 1}: direct loop {direct_s[-1]:6.2f} s   client+gateway {gateway_s[-1]:6.2f} s   "
              f"ratio {gateway_s[-1] / direct_s[-1]:.2f}x", flush=True)
    if statuses["direct"] != statuses["gateway"]:
        raise RuntimeError(f"{env}: the gateway's statuses differ from the direct loop's")
    counts = {s: statuses["gateway"].count(s) for s in sorted(set(statuses["gateway"]))}
    figures = {"measured_at_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
               "load_average_1min_at_end": round(os.getloadavg()[0], 1),
               "items": len(statuses["direct"]), "direct_s": direct_s, "gateway_s": gateway_s,
               "median_direct_s": median(direct_s), "median_gateway_s": median(gateway_s),
               "ratio": median(gateway_s) / median(direct_s), "statuses": counts}
    print(f"{env}: median direct {figures['median_direct_s']:.2f} s, client+gateway "
          f"{figures['median_gateway_s']:.2f} s, ratio {figures['ratio']:.2f}x (target <= 0.7x); statuses {counts}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--group", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--envs", default="math,python_stdio",
                        help="a subset re-measures those and keeps the others' figures in the JSON")
    args = parser.parse_args()
    cases: list[tuple[str, str, Callable[[int, int], Groups]]] = [
        case for case in [("math", "math", math_groups), ("python_stdio", "code", stdio_groups)]
        if case[0] in args.envs.split(",")]
    server = Server("--families", ",".join(sorted({family for _, family, _ in cases})))
    try:
        with RewardClient(server.url) as client:
            figures = {env: measure(env, family, make(args.prompts, args.group), client, args.repeats)
                       for env, family, make in cases}
    finally:
        server.stop()
    previous = RESULTS / "reward_wait.json"
    kept = {}
    if previous.exists():
        old = json.loads(previous.read_text())
        kept = {env: old[env] for env in ("math", "python_stdio") if env in old and env not in figures}
    path = save("reward_wait", {"prompts": args.prompts, "group": args.group, "repeats": args.repeats, **kept,
                                **figures})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
