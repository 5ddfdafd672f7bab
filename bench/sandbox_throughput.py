"""Warm-container sandbox pool vs bare subprocess.run vs one `docker run` per solution, side by side.

Python: N short solutions x 10 tests each, run
  (a) by rewardgym_sandboxes.pool.SandboxPool over warm containers (rewardgym_sandboxes.manager, one per core): one job per solution;
  (b) by one bare ``subprocess.run([/usr/bin/python3, -I, -S, sol.py])`` per test on the host, same parallelism,
      no isolation at all;
  (c) by one ``docker run --rm --network none rewardgym/sandbox`` per solution, all its tests inside it
      (fewer solutions: each costs a container start).
  (d) by SandboxPool over local supervisors under bubblewrap (the no-Docker mode: rewardgym_sandboxes.bwrap), one
      per core, same jobs as (a), alternated with (a) in rounds (``--rounds``).
C++: the same with one ``g++ -O2`` compile per solution (fewer solutions). Prints test executions/s and the
ratios; writes bench/results/sandbox_throughput.json. ``--compare-image IMAGE`` also runs (a) with another
sandbox image (an older supervisor, say) in the same run: ``pool_compare`` in the results.

    sudo .venv/bin/python bench/sandbox_throughput.py [--solutions 500] [--cpp-solutions 40] [--docker-run 20]
                                                      [--compare-image rewardgym/sandbox:before]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import save  # noqa: E402
from rewardgym_sandboxes.manager import SandboxManager  # noqa: E402
from rewardgym_sandboxes.pool import LocalSupervisors, SandboxPool  # noqa: E402

TESTS = 10
PYTHON = "/usr/bin/python3"


def py_solution(k: int) -> str:
    return f"n = int(input())\nprint(n * {k} + {k % 7})\n"


def cpp_solution(k: int) -> str:
    return ("#include <cstdio>\nint main() { long long n; if (scanf(\"%lld\", &n) != 1) return 1; "
            f"printf(\"%lld\\n\", n * {k} + {k % 7}); return 0; }}\n")


def expected(k: int, t: int) -> str:
    return f"{t * k + k % 7}\n"


def rate(executions: int, ok: int, seconds: float) -> dict:
    return {"executions": executions, "ok": ok, "seconds": round(seconds, 3),
            "executions_per_s": round(executions / seconds, 1)}


def run_pool(pool: SandboxPool, language: str, sources: list[str], workers: int, first: int = 0) -> dict:
    """``sources`` are solutions ``first``, ``first + 1``, ... (their expected outputs depend on the number)."""
    tests = [{"stdin": f"{t}\n"} for t in range(TESTS)]

    def one(k: int) -> int:
        result = pool.run({"language": language, "source": sources[k], "tests": tests}, 120)
        return sum(r["verdict"] == "OK" and r["stdout"] == expected(first + k, t)
                   for t, r in enumerate(result.get("tests", [])))
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        ok = sum(ex.map(one, range(len(sources))))
    return rate(len(sources) * TESTS, ok, time.perf_counter() - start)


def run_bare(language: str, sources: list[str], workers: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        def one(k: int) -> int:
            if language == "python":
                path = f"{d}/sol{k}.py"
                Path(path).write_text(sources[k])
                argv = [PYTHON, "-I", "-S", path]
            else:
                Path(f"{d}/sol{k}.cpp").write_text(sources[k])
                subprocess.run(["g++", "-O2", "-std=c++17", "-o", f"{d}/sol{k}", f"{d}/sol{k}.cpp"], check=True)
                argv = [f"{d}/sol{k}"]
            ok = 0
            for t in range(TESTS):
                proc = subprocess.run(argv, input=f"{t}\n".encode(), capture_output=True, timeout=4)
                ok += proc.returncode == 0 and proc.stdout.decode() == expected(k, t)
            return ok
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as ex:
            ok = sum(ex.map(one, range(len(sources))))
        return rate(len(sources) * TESTS, ok, time.perf_counter() - start)


DRIVER = """
import json, subprocess, sys
lang, src = sys.argv[1], sys.argv[2]
open('/w/sol.py' if lang == 'python' else '/w/sol.cpp', 'w').write(src)
if lang == 'cpp':
    subprocess.run(['g++', '-O2', '-std=c++17', '-o', '/w/sol', '/w/sol.cpp'], check=True)
argv = ['python3', '-I', '-S', '/w/sol.py'] if lang == 'python' else ['/w/sol']
print(json.dumps([subprocess.run(argv, input=f'{t}\\n'.encode(), capture_output=True).stdout.decode()
                  for t in range(int(sys.argv[3]))]))
"""


def run_docker_run(image: str, language: str, sources: list[str], workers: int) -> dict:
    def one(k: int) -> int:
        proc = subprocess.run(
            ["docker", "run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/w:rw,exec,size=64m",
             "--tmpfs", "/tmp:rw,exec,size=64m",  # g++ needs a writable TMPDIR (else every compile fails)
             "--entrypoint", "python3", image, "-c", DRIVER, language, sources[k], str(TESTS)],
            capture_output=True, timeout=120)
        outs = json.loads(proc.stdout or b"[]")
        return sum(out == expected(k, t) for t, out in enumerate(outs))
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        ok = sum(ex.map(one, range(len(sources))))
    return rate(len(sources) * TESTS, ok, time.perf_counter() - start)


def run_pools(image: str, slots: int, sources: dict[str, list[str]]) -> tuple[dict[str, dict], dict]:
    """(a) for every language with one image: {language: rate}, and the slots' isolation."""
    out = {}
    with tempfile.TemporaryDirectory() as d:
        manager = SandboxManager(slots, image, f"{d}/sockets").start()
        manager.run_in_background()
        try:
            pool = SandboxPool(f"{d}/sockets")
            pool.run({"language": "cpp", "source": cpp_solution(1), "tests": [{}]}, 60)  # warm up the caches
            pool.run({"language": "python", "source": py_solution(1), "tests": [{}]}, 60)
            for language, language_sources in sources.items():
                out[language] = run_pool(pool, language, language_sources, slots)
            isolation = pool.info()[0]["isolation"]
        finally:
            manager.stop()
    return out, isolation


def run_pools_and_bwrap(image: str, slots: int, sources: dict[str, list[str]],
                        rounds: int) -> tuple[dict[str, dict], dict[str, dict], dict]:
    """(a) and (d) at the same time, alternated in ``rounds`` rounds over a share of the solutions each (the
    machine's load changes by the minute): {language: summed rate} for each, and (a)'s isolation."""
    a_out: dict[str, list[dict]] = {language: [] for language in sources}
    d_out: dict[str, list[dict]] = {language: [] for language in sources}
    with tempfile.TemporaryDirectory() as d:
        manager = SandboxManager(slots, image, f"{d}/sockets").start()
        manager.run_in_background()
        local = LocalSupervisors(slots, bwrap=True)
        try:
            pools = {"a": SandboxPool(f"{d}/sockets"), "d": SandboxPool(local.socket_dir)}
            for pool in pools.values():  # warm up the caches
                pool.run({"language": "cpp", "source": cpp_solution(1), "tests": [{}]}, 60)
                pool.run({"language": "python", "source": py_solution(1), "tests": [{}]}, 60)
            for language, language_sources in sources.items():
                size = -(-len(language_sources) // rounds)
                for first in range(0, len(language_sources), size):
                    share = language_sources[first:first + size]
                    a_out[language].append(run_pool(pools["a"], language, share, slots, first))
                    d_out[language].append(run_pool(pools["d"], language, share, slots, first))
            isolation = pools["a"].info()[0]["isolation"]
        finally:
            local.stop()
            manager.stop()
    return ({k: _total(v) for k, v in a_out.items()}, {k: _total(v) for k, v in d_out.items()}, isolation)


def _total(parts: list[dict]) -> dict:
    total = rate(sum(p["executions"] for p in parts), sum(p["ok"] for p in parts), sum(p["seconds"] for p in parts))
    return total | {"rounds_per_s": [p["executions_per_s"] for p in parts]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--solutions", type=int, default=500, help="Python solutions for (a) and (b)")
    p.add_argument("--cpp-solutions", type=int, default=40, help="C++ solutions for (a) and (b)")
    p.add_argument("--docker-run", type=int, default=20, help="solutions per language for (c)")
    p.add_argument("--slots", type=int, default=os.cpu_count() or 1)
    p.add_argument("--rounds", type=int, default=4, help="(a) and (d) alternate in this many rounds")
    p.add_argument("--image", default="rewardgym/sandbox:latest")
    p.add_argument("--compare-image", default=None, help="also run (a) with this image (e.g. an older supervisor)")
    args = p.parse_args()
    workers = args.slots
    figures: dict = {"benchmark": "sandbox_throughput", "tests_per_solution": TESTS, "parallelism": workers,
                     "image": args.image}
    sources = {"python": [py_solution(k) for k in range(args.solutions)],
               "cpp": [cpp_solution(k) for k in range(args.cpp_solutions)]}
    pools, bwrap_pools, figures["isolation"] = run_pools_and_bwrap(args.image, args.slots, sources, args.rounds)
    compare = run_pools(args.compare_image, args.slots, sources)[0] if args.compare_image else {}
    if args.compare_image:
        figures["compare_image"] = args.compare_image
    for language, language_sources in sources.items():
        a = pools[language]
        b = run_bare(language, language_sources, workers)
        c = run_docker_run(args.image, language, language_sources[:args.docker_run], workers)
        figures[language] = f = {
            "solutions": len(language_sources), "docker_run_solutions": min(len(language_sources), args.docker_run),
            "pool": a, "bare_subprocess": b, "docker_run_per_solution": c,
            "pool_over_bare": round(a["executions_per_s"] / b["executions_per_s"], 3),
            "pool_over_docker_run": round(a["executions_per_s"] / c["executions_per_s"], 2),
            "bwrap_pool": (d := bwrap_pools[language]),
            "bwrap_over_pool": round(d["executions_per_s"] / a["executions_per_s"], 3),
            "bwrap_over_bare": round(d["executions_per_s"] / b["executions_per_s"], 3),
        }
        line = (f"{language}: (a) pool {a['executions_per_s']:.1f}/s ({a['ok']}/{a['executions']} ok)  "
                f"(b) bare {b['executions_per_s']:.1f}/s  (c) docker run {c['executions_per_s']:.1f}/s "
                f"({c['ok']}/{c['executions']} ok)  (d) bwrap {d['executions_per_s']:.1f}/s ({d['ok']} ok)  "
                f"a/b {f['pool_over_bare']}  a/c {f['pool_over_docker_run']}  d/a {f['bwrap_over_pool']}")
        if language in compare:
            f["pool_compare"] = aa = compare[language]
            f["pool_over_pool_compare"] = round(a["executions_per_s"] / aa["executions_per_s"], 2)
            line += f"  (a) with {args.compare_image}: {aa['executions_per_s']:.1f}/s ({aa['ok']} ok)"
        print(line)
    print("saved", save("sandbox_throughput", figures))


if __name__ == "__main__":
    main()
