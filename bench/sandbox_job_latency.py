"""Latency of one sandbox job, two sandbox images side by side: which supervisor costs more per job?

One warm container of each image (rewardgym_sandboxes.manager, one slot each), the same 10-test Python job sent
to each in turn: rounds of ``--jobs`` jobs, alternating which image goes first, so that the load of a shared
machine falls on both alike. Prints the median latency per job (measured at the client) and their ratio; writes
bench/results/sandbox_job_latency.json.

    sudo .venv/bin/python bench/sandbox_job_latency.py --image rewardgym/sandbox:latest \\
                                                       --baseline rewardgym/sandbox:before [--rounds 12]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import save  # noqa: E402
from rewardgym_sandboxes.client import run_job  # noqa: E402
from rewardgym_sandboxes.manager import SandboxManager  # noqa: E402

JOB = {"language": "python", "source": "n = int(input())\nprint(n * 3)\n",
       "tests": [{"stdin": f"{t}\n"} for t in range(10)]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", default="rewardgym/sandbox:latest")
    p.add_argument("--baseline", required=True, help="the other image (an older supervisor, say)")
    p.add_argument("--rounds", type=int, default=12)
    p.add_argument("--jobs", type=int, default=20, help="jobs per image per round")
    args = p.parse_args()
    images = {"image": args.image, "baseline": args.baseline}
    with tempfile.TemporaryDirectory() as d:
        managers = {name: SandboxManager(1, image, f"{d}/{name}", max_jobs=10**6).start()
                    for name, image in images.items()}
        try:
            sockets = {name: manager.socket_path(0) for name, manager in managers.items()}
            seconds: dict[str, list[float]] = {name: [] for name in images}
            for round_ in range(args.rounds):
                for name in (("image", "baseline") if round_ % 2 == 0 else ("baseline", "image")):
                    for _ in range(args.jobs):
                        start = time.perf_counter()
                        result = run_job(sockets[name], JOB, 30)
                        seconds[name].append(time.perf_counter() - start)
                        if result["verdict"] != "OK":
                            raise SystemExit(f"Expected OK from {images[name]}, got {result}")
        finally:
            for manager in managers.values():
                manager.stop()
    medians = {name: round(statistics.median(values) * 1000, 2) for name, values in seconds.items()}
    ratio = round(medians["image"] / medians["baseline"], 3)
    figures = {"benchmark": "sandbox_job_latency", "tests_per_job": len(JOB["tests"]), "images": images,
               "jobs_per_image": len(seconds["image"]), "median_ms": medians, "image_over_baseline": ratio}
    print(f"median job latency: {args.image} {medians['image']} ms, {args.baseline} {medians['baseline']} ms, "
          f"ratio {ratio}")
    print("saved", save("sandbox_job_latency", figures))


if __name__ == "__main__":
    main()
