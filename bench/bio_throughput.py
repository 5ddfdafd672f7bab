"""Throughput of every bio environment: `POST /score/<env>` batches against a direct in-process loop.

    .venv/bin/python bench/bio_throughput.py [--items 300] [--repeats 3] [--difficulty medium] [--group-size 1]

For each environment, side by side in one run and interleaved (so both see the same machine noise): (a) the direct
loop, the family's scoring code called in this process one item after the other (what a trainer without a reward
server does), and (b) one batch request of the same items to the gateway (local runtime, `--processes` scoring
processes). Items are generated tasks with their gold answers (each must score 1). Prints items/s per environment,
the gateway/direct ratio, the CPU the server's process tree spends per item (gateway, worker and scoring
processes: what bounds its throughput on two cores), and names the slowest; figures go to
bench/results/bio_throughput.json. Request bodies are encoded before timing and sent by a lean keep-alive client
(`bench.common.LeanClient`), as the direct loop gets its items ready-made.

The server's CPU per item is the scorer's plus an overhead `o` (parsing, the hop to the worker, the hop to a
scoring process, and back); with `n` processes the ratio cannot pass `n * c / (c + o)` for a scorer of CPU `c`,
which the summary prints as `ceiling` (so 1.5x on two cores needs `o` under a third of `c`). Beside it, the
machine's own ceiling for each scorer: `--processes` direct loops run at once over the same items, without any
server, against one loop.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import LeanClient, Server, median, save, tree_cpu_s  # noqa: E402
from rewardgym.heap import freeze_startup_heap  # noqa: E402
from rewardgym.registry import load_family  # noqa: E402
from rewardgym.sdk import task_rng  # noqa: E402
from rewardgym.worker.execution import FamilyExecutor  # noqa: E402
from rewardgym.worker.jobs import ScoreJob  # noqa: E402

TARGET_ITEMS_PER_S = 200
TARGET_RATIO = 1.5


def gold_items(env_name: str, count: int, difficulty: str, group_size: int = 1,
               first_seed: int = 1000) -> list[dict]:
    """`count` items of generated tasks with their reference solutions; `group_size` consecutive items share one
    task (a GRPO group: one prompt, G completions), so `count // group_size` distinct tasks."""
    env = load_family("bio").instantiate()[env_name]
    items = []
    for index in range(count):
        if index % group_size == 0:
            generated = env.generate(task_rng(env_name, first_seed + index, 0), env.Options(difficulty=difficulty))
        items.append({"completion": generated.solution, "task": generated.task.model_dump(mode="json"),
                      "id": str(index)})
    return items


def direct_loop(executor: FamilyExecutor, env_name: str, items: list[dict]) -> tuple[float, float]:
    """Items per second (wall clock) and CPU milliseconds per item of the in-process loop."""
    started, cpu_started = time.perf_counter(), time.process_time()
    for item in items:
        status, _ = executor.run(ScoreJob(env_name, item["task"], item["completion"]))
        if status.value != "ok":
            raise RuntimeError(f"{env_name}: direct loop got status {status.value}")
    cpu_ms = 1000 * (time.process_time() - cpu_started) / len(items)
    return len(items) / (time.perf_counter() - started), cpu_ms


def parallel_direct_loops(executor: FamilyExecutor, env_name: str, items: list[dict], processes: int,
                          rounds: int) -> float:
    """Items per second of `processes` direct loops at once, each `rounds` times over its share of `items` (forked
    from this process, so as warm as the loop above, started together, timed from the first start to the last
    end): what the machine gives this scorer with that many cores and no server at all, the ceiling of any
    server's rate. `rounds` makes each loop run long enough (~0.3 s) that starting them is not what is timed."""
    go_read, go_write = os.pipe()
    children: list[tuple[int, int]] = []
    for index in range(processes):
        span_read, span_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the forked loop
            os.read(go_read, 1)
            started = time.monotonic()
            for _ in range(rounds):
                direct_loop(executor, env_name, items[index::processes])
            os.write(span_write, struct.pack("dd", started, time.monotonic()))
            os._exit(0)
        os.close(span_write)
        children.append((pid, span_read))
    time.sleep(0.05)
    os.write(go_write, b"x" * processes)
    spans = [struct.unpack("dd", os.read(span_read, 16)) for _, span_read in children]
    for pid, span_read in children:
        os.waitpid(pid, 0)
        os.close(span_read)
    os.close(go_read)
    os.close(go_write)
    return rounds * len(items) / (max(end for _, end in spans) - min(start for start, _ in spans))


def gateway_batch(client: LeanClient, env_name: str, items: list[dict]) -> float:
    body = json.dumps({"items": items}).encode()
    started = time.perf_counter()
    answer = client.post(f"/score/{env_name}", body)
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise RuntimeError(f"{env_name}: gateway answered {answer.status_code}: {answer.content[:300]!r}")
    rewards = {result["reward"] for result in answer.json()["results"]}
    if rewards != {1.0}:
        raise RuntimeError(f"{env_name}: gold answers through the gateway scored {rewards}")
    return len(items) / elapsed



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=300, help="items per environment and run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--difficulty", default="medium", choices=["easy", "medium", "hard"])
    parser.add_argument("--processes", type=int, default=2, help="scoring processes of the gateway's bio worker")
    parser.add_argument("--envs", help="comma-separated subset (default: every bio environment)")
    parser.add_argument("--group-size", type=int, default=1,
                        help="consecutive items sharing one task (8: GRPO groups of 8; 1: every item distinct)")
    args = parser.parse_args()

    executor = FamilyExecutor.load("bio")
    executor.warm_up()
    names = args.envs.split(",") if args.envs else sorted(executor.envs)
    # Each run gets tasks of its own when items share tasks: scorers remember the gold of recent tasks (`per_task`),
    # and a later run must not find the tasks of an earlier one there. With distinct items the 300 tasks cycle
    # through a 64-entry cache and never hit it, so the runs share one set.
    runs = args.repeats if args.group_size > 1 else 1
    items = {name: [gold_items(name, args.items, args.difficulty, args.group_size, 1000 + run * args.items)
                    for run in range(runs)] for name in names}
    freeze_startup_heap()  # as the server's processes do: no collection walks the family and the generated items
    server = Server("--families", "bio", "--processes", str(args.processes))
    client = LeanClient(server.url)
    rows = {}
    try:
        for name in names:
            warm = gold_items(name, 20, args.difficulty, 1, 10**6)
            gateway_batch(client, name, warm)  # warm the worker's processes for this env
            direct_runs, gateway_runs, cpu_ms, direct_cpu_ms, parallel_runs = [], [], [], [], []
            for run in range(args.repeats):
                batch = items[name][run % len(items[name])]
                rate, cpu = direct_loop(executor, name, batch)
                direct_runs.append(rate)
                direct_cpu_ms.append(cpu)
                rounds = max(1, round(0.3 * rate * args.processes / len(batch)))
                parallel_runs.append(parallel_direct_loops(executor, name, batch, args.processes, rounds))
                cpu_before = tree_cpu_s(server)
                gateway_runs.append(gateway_batch(client, name, batch))
                cpu_ms.append(1000 * (tree_cpu_s(server) - cpu_before) / len(batch))
            direct, gateway = median(direct_runs), median(gateway_runs)
            rows[name] = {"direct_items_per_s": [round(r, 1) for r in direct_runs],
                          "gateway_items_per_s": [round(r, 1) for r in gateway_runs],
                          "median_direct_items_per_s": round(direct, 1),
                          "median_gateway_items_per_s": round(gateway, 1),
                          "ratio_gateway_over_direct": round(gateway / direct, 2),
                          "parallel_direct_items_per_s": [round(r, 1) for r in parallel_runs],
                          "machine_ceiling": round(median(parallel_runs) / direct, 2),
                          "direct_cpu_ms_per_item": round(median(direct_cpu_ms), 3),
                          "server_cpu_ms_per_item": round(median(cpu_ms), 3),
                          "ratio_ceiling": round(args.processes * median(direct_cpu_ms) / median(cpu_ms), 2)}
            print(f"{name:20} direct {direct:8.1f} items/s   gateway {gateway:8.1f} items/s   "
                  f"ratio {gateway / direct:5.2f}x   CPU ms/item: direct {median(direct_cpu_ms):5.2f}, "
                  f"server {median(cpu_ms):5.2f} (ceiling {rows[name]['ratio_ceiling']:.2f}x); "
                  f"{args.processes} direct loops at once: {rows[name]['machine_ceiling']:.2f}x", flush=True)
    finally:
        client.close()
        server.stop()

    slowest = min(rows, key=lambda name: rows[name]["median_gateway_items_per_s"])
    lowest_ratio = min(rows, key=lambda name: rows[name]["ratio_gateway_over_direct"])
    under = [name for name, row in rows.items() if row["median_gateway_items_per_s"] < TARGET_ITEMS_PER_S]
    print(f"slowest through the gateway: {slowest} ({rows[slowest]['median_gateway_items_per_s']} items/s); "
          f"lowest ratio: {lowest_ratio} ({rows[lowest_ratio]['ratio_gateway_over_direct']}x); "
          f"under {TARGET_ITEMS_PER_S} items/s: {under or 'none'}")
    path = save("bio_throughput" if args.group_size == 1 else f"bio_throughput_groups{args.group_size}", {
        "items": args.items, "group_size": args.group_size, "repeats": args.repeats, "difficulty": args.difficulty,
        "processes": args.processes,
        "load_average_at_end": [round(load, 2) for load in psutil.getloadavg()],
        "envs": rows, "slowest_env": slowest, "lowest_ratio_env": lowest_ratio, "envs_under_target": under,
        "target_items_per_s": TARGET_ITEMS_PER_S, "target_ratio": TARGET_RATIO,
    })
    print(f"saved {path}")


if __name__ == "__main__":
    main()
