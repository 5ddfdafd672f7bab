"""Identical completions scored once: the saving on GRPO-like groups, measured side by side in one run.

One GRPO step of 64 prompts x 16 completions on `math`, scored by the worker's scorer (2 scoring processes, no
HTTP) with and without merging identical (task, completion) items. Duplicates in a group depend on the policy, so
three mixes are measured (the completions' text is a reasoning sentence plus a boxed answer):

- early:     every completion has its own reasoning sentence: no exact duplicates;
- mid:       reasoning drawn from 6 phrasings, answers from 3 values: some duplicates;
- collapsed: 2 phrasings, the answer mostly right: a late-training group, many duplicates.

The scoring work avoided is exact (the fraction of items that were duplicates); the wall times are only meaningful
on a quiet machine, so the load average at the start is recorded with them.

Usage: .venv/bin/python bench/dedupe.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median, save  # noqa: E402
from rewardgym.protocol import parse_score_request, request_items  # noqa: E402
from rewardgym.registry import load_family  # noqa: E402
from rewardgym.worker.app import running_pool  # noqa: E402
from rewardgym.worker.jobs import ScoreJob  # noqa: E402
from rewardgym.worker.pool import ItemPool, PoolSettings  # noqa: E402
from rewardgym.worker.scoring import FamilyScorer  # noqa: E402

PROMPTS, GROUP = 64, 16
MIXES = {"early": (None, 4), "mid": (6, 3), "collapsed": (2, 2)}
"""mix -> (number of reasoning phrasings, or None for all distinct; number of distinct answers)."""


def groups(mix: str, rng: random.Random) -> dict:
    phrasings, answers = MIXES[mix]
    body = []
    for p in range(PROMPTS):
        gold = p + 2
        candidates = [gold] + [gold + k for k in range(1, answers)]
        completions = []
        for c in range(GROUP):
            reasoning = f"Attempt {p}.{c}: " if phrasings is None else f"Reasoning style {rng.randrange(phrasings)}: "
            answer = gold if rng.random() < 0.6 else rng.choice(candidates)
            completions.append(f"{reasoning}adding the terms gives {answer}. The answer is \\boxed{{{answer}}}")
        body.append({"id": f"p{p}", "task": {"answer": str(gold)}, "completions": completions})
    return {"groups": body}


async def run(repeats: int) -> dict:
    family = load_family("math")
    pool = ItemPool("math", PoolSettings(processes=2))
    figures: dict = {"prompts": PROMPTS, "group": GROUP, "repeats": repeats, "mixes": {},
                     "load_average_at_start": os.getloadavg()[0]}
    async with running_pool(family, pool):
        scorer = FamilyScorer(family, pool)

        async def score_each(request) -> None:  # the same requests with merging off: one job per item
            await asyncio.gather(*(pool.submit(ScoreJob("math", item.task, item.completion), 10.0)
                                   for item in request_items(request)))

        for mix in MIXES:
            request = parse_score_request(groups(mix, random.Random(mix)))
            unique = len({(str(item.task), item.completion) for item in request_items(request)})
            merged, each = [], []
            for repeat in range(repeats):  # alternate which goes first, so warm caches favour neither
                for merge in ((True, False) if repeat % 2 == 0 else (False, True)):
                    started = time.perf_counter()
                    await (scorer.score("math", request) if merge else score_each(request))
                    (merged if merge else each).append(time.perf_counter() - started)
            items = PROMPTS * GROUP
            figures["mixes"][mix] = {
                "items": items, "distinct_items": unique, "duplicate_fraction": round(1 - unique / items, 3),
                "merged_s": round(median(merged), 3), "each_s": round(median(each), 3),
                "time_saved": round(1 - median(merged) / median(each), 3),
            }
            row = figures["mixes"][mix]
            print(f"{mix:10s} scoring jobs avoided {row['duplicate_fraction']:6.1%}  merged {row['merged_s']:6.3f} s  "
                  f"one job per item {row['each_s']:6.3f} s  saved {row['time_saved']:6.1%}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    figures = asyncio.run(run(args.repeats))
    print(f"saved {save('dedupe', figures)}")


if __name__ == "__main__":
    main()
