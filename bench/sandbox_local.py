"""Sandbox supervisor throughput vs bare subprocess.run, side by side on this machine.

500 short Python solutions x 10 tests: through one supervisor per core (jobs of 10 tests, isolation as in
production: uid, netns, cgroup, rlimits) vs one bare ``subprocess.run`` per test with the same parallelism
and the same interpreter and flags (``python3 -I -S``). Prints both test-executions/second and writes
bench/results/sandbox_local.json.

    sudo .venv/bin/python bench/sandbox_local.py [--solutions 500] [--tests 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rewardgym_sandboxes.pool import install_private_supervisor  # noqa: E402
from rewardgym_sandboxes.client import SandboxUnavailable, run_job, supervisor_info  # noqa: E402
from rewardgym_sandboxes.supervisor.isolation import SANDBOX_PATH  # noqa: E402
from rewardgym_sandboxes.supervisor.languages import LANGUAGES  # noqa: E402

RESULTS = REPO / "bench" / "results" / "sandbox_local.json"


def solutions(n: int) -> list[str]:
    return [f"n = int(input())\nprint(n * {k} + {k % 7})\n" for k in range(n)]


def start_supervisors(count: int, private: Path) -> list[tuple[subprocess.Popen, str]]:
    command = install_private_supervisor(str(private))
    started = []
    for i in range(count):
        sock = str(private / f"s{i}.sock")
        cmd = [*command, "--socket", sock, "--slot", str(200 + i),
               "--log-level", "WARNING"]
        proc = subprocess.Popen(cmd, cwd=private)
        for _ in range(300):
            try:
                supervisor_info(sock, timeout=1)
                break
            except SandboxUnavailable:
                time.sleep(0.05)
        started.append((proc, sock))
    return started


def bench_supervisors(srcs: list[str], tests: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        private = Path(d)
        os.chmod(private, 0o700)
        sups = start_supervisors(workers, private)
        isolation = supervisor_info(sups[0][1])["isolation"]
        try:
            def worker(i: int) -> int:
                sock, ok = sups[i][1], 0
                for src in srcs[i::workers]:
                    job = {"language": "python", "source": src,
                           "tests": [{"stdin": f"{t}\n"} for t in range(tests)]}
                    result = run_job(sock, job, timeout=120)
                    ok += sum(t["verdict"] == "OK" for t in result["tests"])
                return ok
            start = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                ok = sum(pool.map(worker, range(workers)))
            elapsed = time.perf_counter() - start
        finally:
            for proc, _ in sups:
                proc.terminate()
                proc.wait(10)
    return {"executions": len(srcs) * tests, "ok": ok, "seconds": round(elapsed, 3),
            "executions_per_s": round(len(srcs) * tests / elapsed, 1), "isolation": isolation}


def bench_bare(srcs: list[str], tests: int, workers: int, python: str) -> dict:
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for k, src in enumerate(srcs):
            path = Path(d) / f"sol{k}.py"
            path.write_text(src)
            paths.append(str(path))

        def one(item: tuple[str, int]) -> bool:
            path, t = item
            proc = subprocess.run([python, "-I", "-S", path], input=f"{t}\n".encode(),
                                  capture_output=True, timeout=4)
            return proc.returncode == 0
        items = [(p, t) for p in paths for t in range(tests)]
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            ok = sum(pool.map(one, items))
        elapsed = time.perf_counter() - start
    return {"executions": len(items), "ok": ok, "seconds": round(elapsed, 3),
            "executions_per_s": round(len(items) / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solutions", type=int, default=500)
    parser.add_argument("--tests", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    python = shutil.which(LANGUAGES["python"].run[0], path=SANDBOX_PATH)
    srcs = solutions(args.solutions)
    bare = bench_bare(srcs, args.tests, args.workers, python)
    supervised = bench_supervisors(srcs, args.tests, args.workers)
    report = {
        "benchmark": "sandbox_local",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": python,
                    "root": os.geteuid() == 0},
        "solutions": args.solutions, "tests_per_solution": args.tests, "workers": args.workers,
        "bare_subprocess": bare,
        "supervisor": supervised,
        "ratio_supervisor_over_bare": round(supervised["executions_per_s"] / bare["executions_per_s"], 3),
    }
    print(f"bare subprocess.run : {bare['executions_per_s']:8.1f} test executions/s ({bare['seconds']} s)")
    print(f"supervisor x{args.workers}      : {supervised['executions_per_s']:8.1f} test executions/s "
          f"({supervised['seconds']} s, isolation {supervised['isolation']})")
    print(f"ratio               : {report['ratio_supervisor_over_bare']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
