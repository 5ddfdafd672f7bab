"""CPU cost of two versions of the math family side by side: a reference checkout (`--before`) against this tree.

    git archive <commit> environments/math/rewardgym_math | tar -x -C /tmp/before
    .venv/bin/python bench/math_ab_cpu.py --before /tmp/before/environments/math [--items 1000] [--rounds 6]

Two gateways run at once, one importing the reference `rewardgym_math` (through PYTHONPATH), one this tree's, and
get the same batches of `bench/math_throughput.py`'s mixed items in alternating order. Besides items/s of wall
time, it counts the CPU seconds the whole server tree (gateway, worker, scoring processes) spent per batch: on a
shared, loaded machine wall-clock throughput swings by 2x between runs, CPU per item far less. Figures go to
bench/results/math_ab_cpu.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import tree_cpu_s, Server, median, save  # noqa: E402
from bench.math_throughput import mixed_items  # noqa: E402



def batch(server: Server, items: list[dict]) -> tuple[float, float]:
    """(items per CPU-second of the server tree, items per wall second) for one batch request."""
    cpu_before = tree_cpu_s(server)
    started = time.perf_counter()
    httpx.post(f"{server.url}/score/math", json={"items": items}, timeout=600).raise_for_status()
    wall = time.perf_counter() - started
    return len(items) / (tree_cpu_s(server) - cpu_before), len(items) / wall


def start(pythonpath: str | None) -> Server:
    saved = os.environ.get("PYTHONPATH")
    if pythonpath:
        os.environ["PYTHONPATH"] = pythonpath
    else:
        os.environ.pop("PYTHONPATH", None)
    try:
        return Server("--families", "math")
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="directory holding the reference rewardgym_math package")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    if not (Path(args.before) / "rewardgym_math" / "__init__.py").is_file():
        raise SystemExit(f"Expected {args.before}/rewardgym_math/__init__.py, found none")

    items = mixed_items(args.items)
    servers = {"before": start(args.before), "after": start(None)}
    results: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
    try:
        for server in servers.values():
            batch(server, items[:50])
        for round_ in range(args.rounds):  # alternating order, so neither side always goes first
            for name in (("before", "after") if round_ % 2 == 0 else ("after", "before")):
                results[name].append(batch(servers[name], items))
            print(f"round {round_ + 1}: " + "   ".join(
                f"{name} {runs[-1][0]:6.1f} items/CPU-s {runs[-1][1]:6.1f} items/s" for name, runs in results.items()),
                flush=True)
    finally:
        for server in servers.values():
            server.stop()

    cpu = {name: median([run[0] for run in runs]) for name, runs in results.items()}
    wall = {name: median([run[1] for run in runs]) for name, runs in results.items()}
    print(f"median items per CPU-second of the server tree: before {cpu['before']:.1f}, after {cpu['after']:.1f}, "
          f"ratio {cpu['after'] / cpu['before']:.3f}; wall items/s: before {wall['before']:.1f}, "
          f"after {wall['after']:.1f}, ratio {wall['after'] / wall['before']:.3f}")
    path = save("math_ab_cpu", {
        "before": args.before, "items": args.items, "rounds": args.rounds,
        "runs": {name: [{"items_per_cpu_s": round(c, 1), "items_per_s": round(w, 1)} for c, w in runs]
                 for name, runs in results.items()},
        "median_items_per_cpu_s": {name: round(value, 1) for name, value in cpu.items()},
        "median_items_per_s": {name: round(value, 1) for name, value in wall.items()},
        "ratio_cpu_after_over_before": round(cpu["after"] / cpu["before"], 3),
        "ratio_wall_after_over_before": round(wall["after"] / wall["before"], 3),
    })
    print(f"saved {path}")


if __name__ == "__main__":
    main()
