"""Throughput of `POST /score/math` against a direct single-process loop over the same scoring function.

    .venv/bin/python bench/math_throughput.py [--items 2000] [--repeats 3] [--memory-items 50000]

Side by side in one run: (a) the direct loop (the scoring function called in this process, one item after the
other: what a trainer without a reward server does), (b) the gateway's batch endpoint with the local runtime.
Then p50/p99 of single-item requests at concurrency 16, and the worker's memory while it scores
`--memory-items` items (it should stay flat: scoring processes are recycled). Figures go to
bench/results/math_throughput.json.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from fractions import Fraction
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Server, median, percentile, save  # noqa: E402
from rewardgym.worker.execution import FamilyExecutor  # noqa: E402
from rewardgym.worker.jobs import ScoreJob  # noqa: E402


def mixed_items(count: int, seed: int = 0) -> list[dict]:
    """Right answers in several forms, wrong answers, and unparseable or missing ones, about 50/30/20."""
    rng = random.Random(seed)
    items = []
    for index in range(count):
        value = Fraction(rng.randint(-50, 50), rng.randint(1, 12))
        gold = (f"\\frac{{{value.numerator}}}{{{value.denominator}}}" if value.denominator != 1
                else str(value.numerator))
        kind = rng.random()
        if kind < 0.5:
            form = rng.choice(["boxed", "decimal", "think"])
            if form == "decimal" and value.denominator in (1, 2, 4, 5, 8, 10):
                answer = f"\\boxed{{{float(value):g}}}"
            elif form == "think":
                answer = f"<think>Compute it.</think> The result is \\boxed{{{gold}}}."
            else:
                answer = f"So the answer is \\boxed{{{gold}}}."
        elif kind < 0.8:
            wrong = value + rng.randint(1, 5)
            answer = f"\\boxed{{{wrong.numerator}/{wrong.denominator}}}"
        else:
            answer = rng.choice(["I am not sure.", "\\boxed{\\frac{1}{", "\\boxed{}", "x = ???"])
        items.append({"completion": f"Let me work through problem {index}. {answer}", "task": {"answer": gold},
                      "id": str(index)})
    return items


def direct_loop(items: list[dict]) -> float:
    executor = FamilyExecutor.load("math")
    started = time.perf_counter()
    for item in items:
        executor.run(ScoreJob("math", item["task"], item["completion"]))
    return len(items) / (time.perf_counter() - started)


def gateway_batch(url: str, items: list[dict]) -> tuple[float, list[dict]]:
    started = time.perf_counter()
    answer = httpx.post(f"{url}/score/math", json={"items": items}, timeout=600)
    elapsed = time.perf_counter() - started
    answer.raise_for_status()
    return len(items) / elapsed, answer.json()["results"]


async def single_item_latencies(url: str, items: list[dict], concurrency: int) -> list[float]:
    queue = list(items)
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=concurrency)) as http:
        async def client() -> None:
            while queue:
                item = queue.pop()
                started = time.perf_counter()
                (await http.post("/score/math", json=item)).raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies


def worker_rss_mb(server: Server) -> float:
    """Resident memory of the math worker and all its scoring processes."""
    gateway = psutil.Process(server.process.pid)
    total = 0
    for child in gateway.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def memory_over(server: Server, count: int, batch: int = 1000) -> list[dict]:
    samples = [{"items": 0, "rss_mb": round(worker_rss_mb(server), 1)}]
    done = 0
    while done < count:
        gateway_batch(server.url, mixed_items(batch, seed=1000 + done))
        done += batch
        if done % max(batch, count // 10) == 0 or done >= count:
            samples.append({"items": done, "rss_mb": round(worker_rss_mb(server), 1)})
            print(f"  after {done:>6} items: worker tree RSS {samples[-1]['rss_mb']:.0f} MB", flush=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--latency-requests", type=int, default=800)
    parser.add_argument("--memory-items", type=int, default=50_000)
    args = parser.parse_args()

    items = mixed_items(args.items)
    direct_loop(items[:50])  # warm math-verify's lazy imports in this process, as the server's are
    server = Server("--families", "math")
    try:
        gateway_batch(server.url, items[:50])
        direct_runs, gateway_runs = [], []
        for repeat in range(args.repeats):  # interleaved, so both see the same machine noise
            direct_runs.append(direct_loop(items))
            rate, results = gateway_batch(server.url, items)
            gateway_runs.append(rate)
            print(f"run {repeat + 1}: direct loop {direct_runs[-1]:7.1f} items/s   gateway {rate:7.1f} items/s",
                  flush=True)
        statuses = {status: sum(r["status"] == status for r in results) for status in {r["status"] for r in results}}
        direct, gateway = median(direct_runs), median(gateway_runs)
        ratios = [g / d for g, d in zip(gateway_runs, direct_runs)]
        print(f"median: direct loop {direct:.1f} items/s, gateway batch {gateway:.1f} items/s, "
              f"ratio {gateway / direct:.2f}x; median of per-run ratios {median(ratios):.2f}x "
              f"(statuses of the last run: {statuses})")

        latencies = asyncio.run(single_item_latencies(server.url, mixed_items(args.latency_requests, seed=7), 16))
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        print(f"single-item requests at concurrency 16: p50 {p50:.1f} ms, p99 {p99:.1f} ms")

        memory = memory_over(server, args.memory_items) if args.memory_items else []
    finally:
        server.stop()

    path = save("math_throughput", {
        "items": args.items, "repeats": args.repeats,
        "direct_items_per_s": direct_runs, "gateway_items_per_s": gateway_runs,
        "median_direct_items_per_s": round(direct, 1), "median_gateway_items_per_s": round(gateway, 1),
        "ratio_gateway_over_direct": round(gateway / direct, 3),
        "median_of_per_run_ratios": round(median(ratios), 3), "statuses": statuses,
        "single_item_concurrency": 16, "single_item_p50_ms": round(p50, 2), "single_item_p99_ms": round(p99, 2),
        "memory_samples": memory,
    })
    print(f"saved {path}")


if __name__ == "__main__":
    main()
