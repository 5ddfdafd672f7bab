"""Throughput of scoring the puzzles family through the gateway against a direct in-process loop.

    .venv/bin/python bench/puzzles_throughput.py [--tasks-per-env 4] [--group-size 8] [--repeats 3]

The items: for every served `rg_*` environment, `--tasks-per-env` generated tasks (easiest served difficulty),
each a GRPO group of `--group-size` completions: about 50% the reference answer, 30% a wrong answer, 20% no
answer. Side by side in one run, interleaved: (a) the direct loop, `FamilyExecutor.run` over every item in this
process (what a trainer does without a reward server); (b) the gateway (local runtime, `--processes` scoring
processes), one groups request per environment, all sent at once (a trainer mixing datasets in one step). Also
the time until the gateway with the puzzles worker is ready. Figures go to bench/results/puzzles_throughput.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Server, median, save  # noqa: E402
from rewardgym.heap import freeze_startup_heap  # noqa: E402
from rewardgym.server.worker_client import WorkerClient  # noqa: E402
from rewardgym.sdk import task_rng  # noqa: E402
from rewardgym.worker.execution import FamilyExecutor  # noqa: E402
from rewardgym.worker.jobs import ScoreJob  # noqa: E402
from rewardgym_puzzles import catalogue  # noqa: E402

Batches = dict[str, list[dict]]
"""Per environment, its groups: `{"task": ..., "completions": [...], "id": ...}`."""


def make_batches(executor: FamilyExecutor, tasks_per_env: int, group_size: int, seed: int = 0,
                 distinct: bool = False) -> Batches:
    """Generated here, not timed. `distinct`: every completion of a group differs in its reasoning line, so the
    server cannot merge identical items (about two thirds of this mix's items are repeats within their group)."""
    rng = random.Random(seed)
    batches: Batches = {}
    for name, env in sorted(executor.envs.items()):
        options = env.Options(difficulty=catalogue.served_difficulties(env.dataset)[0])
        groups = []
        for index in range(tasks_per_env):
            generated = env.generate(task_rng(name, seed, index), options)
            completions = []
            for _ in range(group_size):
                kind = rng.random()
                answer = (generated.solution if kind < 0.5 else "<answer>wrong</answer>" if kind < 0.8
                          else "I could not solve it.")
                thinking = f"Thinking about it (attempt {len(completions) + 1})." if distinct else "Thinking about it."
                completions.append(f"{thinking}\n{answer}")
            groups.append({"task": generated.task.model_dump(mode="json"), "completions": completions,
                           "id": f"{name}#{index}"})
        batches[name] = groups
    return batches


def item_count(batches: Batches) -> int:
    return sum(len(group["completions"]) for groups in batches.values() for group in groups)


def direct_loop(executor: FamilyExecutor, batches: Batches) -> float:
    started = time.perf_counter()
    for name, groups in batches.items():
        for group in groups:
            for completion in group["completions"]:
                executor.run(ScoreJob(name, group["task"], completion))
    return item_count(batches) / (time.perf_counter() - started)


async def gateway_batches(url: str, batches: Batches) -> tuple[float, Counter[str], list[str]]:
    """Items/s, the statuses, and one line per environment whose items came back other than ok/no_answer.
    Bodies are encoded before timing and sent by the gateway's own lean keep-alive client (see
    `bench.common.LeanClient`: httpx took milliseconds of this machine's CPU per request)."""
    http = WorkerClient.for_url(url)
    bodies = {name: json.dumps({"groups": groups}).encode() for name, groups in batches.items()}

    async def post(name: str) -> bytes:
        answer = await http.request("POST", f"/score/{name}", bodies[name], 600)
        if answer.status_code != 200:
            raise RuntimeError(f"{name}: {answer.status_code} {answer.content[:300]!r}")
        return answer.content

    try:
        started = time.perf_counter()
        answers = await asyncio.gather(*(post(name) for name in batches))
        elapsed = time.perf_counter() - started
    finally:
        await http.aclose()
    flat = [{**result, "env": name} for name, content in zip(batches, answers)
            for group in json.loads(content)["groups"] for result in group["results"]]
    failures = sorted({f"{r['env']}: {r['status']}: {r['details'].get('message', '')[:200]}" for r in flat
                       if r["status"] not in ("ok", "no_answer")})
    return item_count(batches) / elapsed, Counter(r["status"] for r in flat), failures


STARTUP_PROBE = """
import json, time
started = time.perf_counter()
from rewardgym.registry import load_family
family = load_family("puzzles")
imported = time.perf_counter()
envs = family.instantiate()
catalogue = [env.info(family.name) for env in envs.values()]
done = time.perf_counter()
print(json.dumps({"import_s": imported - started, "catalogue_s": done - imported, "environments": len(catalogue)}))
"""


def startup_costs() -> dict:
    """What the worker's main process spends before it serves: importing the family, building its catalogue."""
    out = subprocess.run([sys.executable, "-c", STARTUP_PROBE], capture_output=True, text=True, check=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return {key: round(value, 2) if isinstance(value, float) else value for key, value in figures.items()}


def _burn(count: int) -> int:
    total = 0
    for value in range(count):
        total += value
    return total


def parallel_speedup(processes: int, count: int = 3_000_000) -> float:
    """What `processes` processes gain over one on a pure-Python CPU loop right now: the ceiling of any
    server-over-direct ratio on this machine (1.0 when other load already takes every core)."""
    started = time.perf_counter()
    for _ in range(processes):
        _burn(count)
    sequential = time.perf_counter() - started
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        started = time.perf_counter()
        pool.map(_burn, [count] * processes)
        parallel = time.perf_counter() - started
    return sequential / parallel


def direct_ms_by_env(executor: FamilyExecutor, batches: Batches) -> dict[str, float]:
    """Milliseconds per item of each environment in the direct loop (one pass, measured here)."""
    return {name: 1000 / direct_loop(executor, {name: groups}) for name, groups in batches.items()}


def compare(label: str, executor: FamilyExecutor, url: str, batches: Batches, repeats: int) -> dict:
    """Direct loop and gateway, interleaved `repeats` times (both see the same machine noise)."""
    direct_runs, gateway_runs = [], []
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    for repeat in range(repeats):
        direct_runs.append(direct_loop(executor, batches))
        rate, statuses, failed = asyncio.run(gateway_batches(url, batches))
        failures += failed
        gateway_runs.append(rate)
        print(f"{label} run {repeat + 1}: direct loop {direct_runs[-1]:7.1f} items/s   gateway {rate:7.1f} items/s",
              flush=True)
    direct, gateway = median(direct_runs), median(gateway_runs)
    ratios = [g / d for g, d in zip(gateway_runs, direct_runs)]
    print(f"{label} median: direct loop {direct:.1f} items/s, gateway {gateway:.1f} items/s, ratio "
          f"{gateway / direct:.2f}x; median of per-run ratios {median(ratios):.2f}x (statuses: {dict(statuses)})")
    for failure in sorted(set(failures)):
        print(f"  not scored: {failure}")
    return {
        "items": item_count(batches), "environments": sorted(batches) if len(batches) < 40 else len(batches),
        "direct_items_per_s": direct_runs, "gateway_items_per_s": gateway_runs,
        "median_direct_items_per_s": round(direct, 1), "median_gateway_items_per_s": round(gateway, 1),
        "ratio_gateway_over_direct": round(gateway / direct, 3), "median_of_per_run_ratios": round(median(ratios), 3),
        "statuses": dict(statuses), "failures": sorted(set(failures)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks-per-env", type=int, default=4)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--distinct", action="store_true",
                        help="no two completions of a group alike (nothing for the server to merge)")
    parser.add_argument("--costly-ms", type=float, default=1.0,
                        help="also compare on the environments whose items take at least this long directly")
    args = parser.parse_args()

    executor = FamilyExecutor.load("puzzles")
    started = time.perf_counter()
    batches = make_batches(executor, args.tasks_per_env, args.group_size, distinct=args.distinct)
    print(f"{item_count(batches)} items over {len(batches)} environments, generated in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    direct_loop(executor, batches)  # warm this process's datasets, as the server's fork server warms its own
    freeze_startup_heap()  # as the server's processes do: no collection walks the family and the generated items
    ms_by_env = direct_ms_by_env(executor, batches)
    slow = {name: batches[name] for name, ms in ms_by_env.items() if ms >= args.costly_ms}
    cheap_share = sum(ms < 0.1 for ms in ms_by_env.values()) / len(ms_by_env)
    print(f"direct ms per item: median over environments {median(list(ms_by_env.values())):.3f}; "
          f"{cheap_share:.0%} of them under 0.1 ms; {len(slow)} at or over {args.costly_ms} ms: {sorted(slow)}",
          flush=True)
    costs = startup_costs()
    print(f"worker main process: import {costs['import_s']} s, catalogue of {costs['environments']} environments "
          f"{costs['catalogue_s']} s", flush=True)
    started = time.perf_counter()
    server = Server("--families", "puzzles", "--processes", str(args.processes))
    startup_s = time.perf_counter() - started
    print(f"gateway with the puzzles worker ready in {startup_s:.1f} s", flush=True)
    try:
        asyncio.run(gateway_batches(server.url, batches))  # warm-up: each scoring process builds its datasets
        everything = compare("all", executor, server.url, batches, args.repeats)
        expensive = compare("costly", executor, server.url, slow, args.repeats) if slow else {}
    finally:
        server.stop()
    speedup = parallel_speedup(args.processes)
    load = os.getloadavg()[0]
    print(f"this machine now: {args.processes} processes run a CPU loop {speedup:.2f}x faster than one "
          f"(load average {load:.1f})")
    path = save("puzzles_throughput_distinct" if args.distinct else "puzzles_throughput", {
        "distinct_completions": args.distinct,
        "tasks_per_env": args.tasks_per_env, "group_size": args.group_size, "repeats": args.repeats,
        "processes": args.processes, "server_ready_s": round(startup_s, 1), "worker_startup": costs,
        "parallel_speedup_ceiling": round(speedup, 2), "load_average_1min": round(load, 1),
        "direct_ms_per_item_by_env": {name: round(ms, 3) for name, ms in sorted(ms_by_env.items())},
        "all_environments": everything, "costly_ms": args.costly_ms, "costly_environments": expensive,
    })
    print(f"saved {path}")


if __name__ == "__main__":
    main()
