"""How many items one gateway core routes: the gateway process's own CPU time per item, with a trivial environment
(toy_echo: the worker's cost is nearly nothing), for requests of 1,000 items as a batch (`items`), as groups
(50 groups x 20 completions) and as 1,000 single requests; and the sizing that implies for 16 nodes of workers.

The gateway's CPU is read from /proc/<pid>/stat of the `rewardgym serve` process alone (its workers are child
processes, counted apart), before and after each round; the client and the workers share the machine, which changes
the wall time, not the gateway's CPU per item. Side by side in one run: batch vs single, groups vs batch. Writes
bench/results/gateway_capacity.json.

    .venv/bin/python bench/gateway_capacity.py [--rounds 3] [--requests 10] [--single 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import Server, median, save  # noqa: E402

TOY = "tests.support.toy_family:FAMILY"
BATCH = 1000
TARGET_PER_CORE = 20_000
NODES, WORKER_CPUS_PER_NODE = 16, 8  # the seed's layout (deploy/slurm/rewardgym-slurm.toml)
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of the process itself (all its threads, none of its children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of the process's descendants (the workers and their scoring processes)."""
    total = 0.0
    for child in psutil.Process(pid).children(recursive=True):
        try:
            times = child.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def bodies(mode: str, requests: int, singles: int) -> list[dict]:
    if mode == "single":
        return [{"task": {"answer": str(n)}, "completion": str(n)} for n in range(singles)]
    if mode == "batch":
        return [{"items": [{"task": {"answer": str(n)}, "completion": str(n)} for n in range(BATCH)]}] * requests
    groups = [{"task": {"answer": str(g)}, "completions": [str(g) if c % 2 else f"{g}-{c}" for c in range(20)]}
              for g in range(50)]  # distinct completions: nothing for a dedupe to skip
    return [{"groups": groups}] * requests


def items_in(body: dict) -> int:
    if "items" in body:
        return len(body["items"])
    if "groups" in body:
        return sum(len(g["completions"]) for g in body["groups"])
    return 1


def one_round(server: Server, mode: str, requests: int, singles: int, concurrency: int) -> dict:
    payload = bodies(mode, requests, singles)
    clients = [httpx.Client(base_url=server.url, timeout=300) for _ in range(concurrency)]
    try:
        def post(k: int) -> int:
            response = clients[k % concurrency].post("/score/toy_echo", json=payload[k])
            response.raise_for_status()
            return items_in(payload[k])

        gateway0, workers0, wall0 = cpu_s(server.process.pid), tree_cpu_s(server.process.pid), time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            items = sum(pool.map(post, range(len(payload))))
        wall = time.perf_counter() - wall0
        gateway = cpu_s(server.process.pid) - gateway0
        workers = tree_cpu_s(server.process.pid) - workers0
    finally:
        for client in clients:
            client.close()
    return {"items": items, "gateway_cpu_s": round(gateway, 3), "worker_cpu_s": round(workers, 3),
            "wall_s": round(wall, 3), "gateway_cpu_us_per_item": round(gateway / items * 1e6, 2),
            "items_per_gateway_core_s": round(items / gateway) if gateway else None}


def sizing(gateway_us: float) -> list[dict]:
    """Gateway cores for 16 nodes x 8 worker CPUs, for a few worker costs per item (CPU ms)."""
    worker_cpus = NODES * WORKER_CPUS_PER_NODE
    out = []
    for worker_ms in (0.5, 2.0, 10.0, 100.0):
        demand = worker_cpus / (worker_ms / 1000)
        out.append({"worker_cpu_ms_per_item": worker_ms, "items_per_s_of_16_nodes": round(demand),
                    "gateway_cores_needed": round(demand * gateway_us / 1e6, 2)})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=10, help="requests of 1,000 items per batch/groups round")
    p.add_argument("--single", type=int, default=1000, help="single requests per round")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--processes", type=int, default=2, help="scoring processes of the toy worker")
    args = p.parse_args()
    os.environ["PYTHONPATH"] = f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    server = Server("--families", TOY, "--processes", str(args.processes), "--max-items-per-request", "100000",
                    "--max-queued-items", "1000000")
    figures: dict = {"benchmark": "gateway_capacity", "batch_items": BATCH, "rounds": args.rounds,
                     "concurrency": args.concurrency, "target_items_per_gateway_core_s": TARGET_PER_CORE}
    try:
        for mode in ("batch", "groups", "single"):  # warm-up round first, not counted
            one_round(server, mode, 2, 100, args.concurrency)
        for mode in ("batch", "groups", "single"):
            rounds = [one_round(server, mode, args.requests, args.single, args.concurrency)
                      for _ in range(args.rounds)]
            us = median([r["gateway_cpu_us_per_item"] for r in rounds])
            figures[mode] = {"rounds": rounds, "median_gateway_cpu_us_per_item": us,
                             "items_per_gateway_core_s": round(1e6 / us),
                             "median_worker_cpu_us_per_item": median([r["worker_cpu_s"] / r["items"] * 1e6
                                                                      for r in rounds])}
            print(f"{mode:6s}: gateway {us:8.1f} us CPU/item -> {1e6 / us:9.0f} items/s per gateway core "
                  f"(worker tree {figures[mode]['median_worker_cpu_us_per_item']:.0f} us/item)")
    finally:
        server.stop()
    batch, single, groups = (figures[m]["median_gateway_cpu_us_per_item"] for m in ("batch", "single", "groups"))
    figures["single_over_batch_cpu"] = round(single / batch, 1)
    figures["groups_over_batch_cpu"] = round(groups / batch, 2)
    figures["batch_meets_target"] = figures["batch"]["items_per_gateway_core_s"] >= TARGET_PER_CORE
    figures["sizing_16_nodes"] = sizing(batch)
    print(f"single/batch CPU per item {figures['single_over_batch_cpu']}x, groups/batch "
          f"{figures['groups_over_batch_cpu']}x; batch target {TARGET_PER_CORE}/s per core: "
          f"{'met' if figures['batch_meets_target'] else 'NOT met'}")
    for row in figures["sizing_16_nodes"]:
        print(f"  16 nodes x {WORKER_CPUS_PER_NODE} CPUs at {row['worker_cpu_ms_per_item']} ms/item: "
              f"{row['items_per_s_of_16_nodes']} items/s -> {row['gateway_cores_needed']} gateway cores (batch)")
    print("saved", save("gateway_capacity", figures))


if __name__ == "__main__":
    main()
