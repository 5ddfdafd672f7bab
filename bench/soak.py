"""Soak with faults: N clients send normal and hostile items to every environment while scoring processes, workers,
worker containers and sandbox containers are killed at random; nothing may be lost, no normal verdict may change,
nothing may hang, and the server's resources must come back to where they started.

    python bench/soak.py --minutes 10                         # local runtime, code sandboxes under bubblewrap
    python bench/soak.py --minutes 10 --runtime docker         # families and sandboxes in containers
    python bench/soak.py --minutes 0.75 --quiet-minutes 0.25 --out /tmp/x.json   # what tests/test_soak.py runs

The same client mix (same seeds) runs first for `--quiet-minutes` with no fault, then for `--minutes` with faults;
items/s of both and their ratio are printed. A few slow hostile requests weigh on items/s, so the ratio means most
when both phases last as long (the default): each client then sends the same requests in both.

Normal items are each environment's catalogue example (a right answer), a wrong answer and an empty completion;
their expected verdicts are what the same server answers while quiet, before any load. Under faults a normal item
may come back `error`/`timeout` with reward null (its scoring process, worker or sandbox was killed: honest,
counted apart), never with another reward. Hostile items (huge exponents, code that loops, forks, floods output or
eats memory, huge action lists) must get a result whose reward is 0 or null. Malformed, oversize and
unknown-environment requests must get their 4xx. The runner is a child subreaper, so a process the server leaks
stays countable; with `--runtime docker` the containers it started (found by their labels) are counted too, with
the processes, fds and temp files inside them, and none may remain once it stops.
"""

from __future__ import annotations

import argparse
import ctypes
import itertools
import json
import math
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import machine, percentile, save  # noqa: E402
from bench.soak_containers import SoakContainers  # noqa: E402
from bench.soak_faults import FaultInjector, Resources, reap_orphans, server_tree  # noqa: E402
from bench.soak_items import (ITEM_DEADLINE_S, SoakItem, hostile_items, malformed_requests,  # noqa: E402
                              normal_items)

FAMILIES = "math,code,games"
PROCESSES = 2
MAX_ITEMS = 6
MAX_BODY_BYTES = 1024 * 1024
WARM_UP_DEADLINE_S = 2.0


def become_subreaper() -> None:
    """Orphans of the server tree (e.g. a sandbox outliving its killed worker) are re-parented to us, not init."""
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


class Tally:
    """Counts shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.statuses: Counter = Counter()
        self.latencies: list[float] = []
        self.problems: list[str] = []

    def add(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n

    def problem(self, text: str) -> None:
        with self.lock:
            self.counts["problems"] += 1
            if len(self.problems) < 50:
                self.problems.append(text[:500])


def expected_verdicts(http: httpx.Client, items: list[SoakItem]) -> list[SoakItem]:
    """Score each normal item on the quiet server; keep those with a verdict (not null), with it as expected."""
    kept = []
    for env in sorted({item.env for item in items}):
        of_env = [item for item in items if item.env == env]
        results = http.post(f"/score/{env}", json={"items": [item.body(item.label) for item in of_env],
                                                   "timeout_s": ITEM_DEADLINE_S}).json()["results"]
        kept += [item.with_expected(r["status"], r["reward"]) for item, r in zip(of_env, results)
                 if r["reward"] is not None]
    return kept


def check_results(tally: Tally, batch: list[SoakItem], results: list[dict[str, Any]], ids: list[str]) -> None:
    if [r.get("id") for r in results] != ids:
        tally.problem(f"lost or reordered items: sent {ids}, got {[r.get('id') for r in results]}")
        tally.add("items_lost", abs(len(ids) - len(results)) or 1)
        return
    for item, result in zip(batch, results):
        status, reward = result["status"], result["reward"]
        with tally.lock:
            tally.statuses[status] += 1
        tally.add("items")
        if item.expected is None:  # hostile: any honest result, never a positive reward
            tally.add("hostile_items")
            if reward not in (0, 0.0, None):
                tally.problem(f"hostile item {item.label} got reward {reward} ({status})")
        elif (status, reward) == item.expected or (reward is not None and (status, reward) == (
                item.expected[0], pytest_approx(reward, item.expected[1]))):
            tally.add("normal_as_expected")
        elif reward is None and status in ("error", "timeout"):
            tally.add("normal_null_under_faults")
        else:
            tally.add("wrong_verdicts")
            tally.problem(f"{item.label}: expected {item.expected}, got {(status, reward)}: {result['details']}")


def pytest_approx(got: float, expected: float) -> float:
    """`expected` when `got` equals it up to float noise, else `got` (so the tuple comparison fails)."""
    return expected if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12) else got


def worker_was_down(answer: httpx.Response) -> bool:
    """A task is validated by its worker: while that restarts, the answer is 503, or an honest `error` item."""
    if answer.status_code == 503:
        return True
    body = answer.json() if answer.status_code == 200 else {}
    return body.get("status") == "error" and body.get("reward") is None


def post(http: httpx.Client, tally: Tally, what: str, path: str, **kwargs: Any) -> httpx.Response | None:
    """POST, counting a request that outlives the hang bound (the client's timeout) as a hang."""
    try:
        return http.post(path, **kwargs)
    except httpx.TimeoutException:
        tally.add("hangs")
        tally.problem(f"{what} hung past {http.timeout.read} s")
    except httpx.TransportError as exc:
        tally.problem(f"{what}: {exc!r}")
    return None


def send_malformed(http: httpx.Client, tally: Tally, request: tuple[str, bytes, int]) -> None:
    path, content, expected_status = request
    answer = post(http, tally, f"malformed request to {path}", path, content=content,
                  headers={"content-type": "application/json"})
    if answer is None:
        return
    tally.add("malformed_requests")
    if answer.status_code != expected_status and not worker_was_down(answer):
        tally.problem(f"malformed request to {path}: expected {expected_status}, got "
                      f"{answer.status_code} {answer.text[:200]}")


def client_loop(url: str, pool: dict[str, list[SoakItem]], stop: threading.Event, tally: Tally, seed: int,
                hang_s: float) -> None:
    rng = random.Random(seed)
    malformed = malformed_requests(MAX_BODY_BYTES)
    envs = sorted(pool)
    with httpx.Client(base_url=url, timeout=hang_s) as http:
        for n in itertools.count():
            if stop.is_set():
                return
            if rng.random() < 0.08:
                send_malformed(http, tally, rng.choice(malformed))
                continue
            env = rng.choice(envs)
            batch = [rng.choice(pool[env]) for _ in range(rng.randint(1, MAX_ITEMS))]
            ids = [f"{seed}-{n}-{i}" for i in range(len(batch))]
            tally.add("requests")
            started = time.monotonic()
            answer = post(http, tally, f"/score/{env} with {len(batch)} items", f"/score/{env}", json={
                "items": [item.body(i) for item, i in zip(batch, ids)], "timeout_s": ITEM_DEADLINE_S})
            if answer is None:
                continue
            with tally.lock:
                tally.latencies.append(time.monotonic() - started)
            tally.add(f"http_{answer.status_code}")
            if answer.status_code == 200:
                check_results(tally, batch, answer.json()["results"], ids)
            elif answer.status_code not in (429, 503):
                tally.problem(f"/score/{env}: {answer.status_code} {answer.text[:300]}")


def docker_config(path: Path, tag: str) -> Path:
    """The images of FAMILIES for the Docker runtime: one replica each, as many scoring processes as locally, and
    the code family's warm sandbox containers (one per scoring process)."""
    tables = []
    for family in FAMILIES.split(","):
        tables.append(f'[[images]]\nimage = "rewardgym/{family}:{tag}"\nmemory = "2g"\ncpus = {float(PROCESSES)}\n'
                      f'processes = {PROCESSES}\n' + (f"sandbox_slots = {PROCESSES}\n" if family == "code" else ""))
    path.write_text("\n".join(tables))
    return path


def server_args(runtime: str, tmp: Path, owner: str, image_tag: str) -> list[str]:
    """`rewardgym serve` arguments; with Docker, our own owner label and socket directory (under `tmp`), by which
    the fault injector finds our containers and only ours."""
    limits = ["--max-body-bytes", str(MAX_BODY_BYTES), "--max-queued-items", "2000"]
    if runtime == "local":
        return ["--families", FAMILIES, "--processes", str(PROCESSES), *limits]
    return ["--runtime", "docker", "--config", str(docker_config(tmp / "images.toml", image_tag)),
            "--owner", owner, "--socket-dir", str(tmp / "sockets"), "--admin-token", secrets.token_hex(16), *limits]


def client_pool(url: str) -> dict[str, list[SoakItem]]:
    """Normal items with their quiet verdicts, and hostile items, by environment; each scored once more (warm-up:
    every scoring process and sandbox slot used before the baseline; a short deadline, as the hostile items that
    run to it would take minutes)."""
    with httpx.Client(base_url=url, timeout=120) as http:
        catalogue = http.get("/v1/envs").json()["envs"]
        normal = expected_verdicts(http, normal_items(catalogue))
        pool: dict[str, list[SoakItem]] = {}
        for item in normal + hostile_items(catalogue):
            pool.setdefault(item.env, []).append(item)
        for env, items in pool.items():
            http.post(f"/score/{env}", json={"items": [item.body(str(n)) for n, item in enumerate(items)],
                                             "timeout_s": WARM_UP_DEADLINE_S})
    return pool


def run_phase(url: str, pool: dict[str, list[SoakItem]], clients: int, seed: int, hang_s: float, seconds: float,
              injector: FaultInjector | None = None) -> tuple[Tally, float, list[float]]:
    """The client mix for `seconds` (the same seeds in every phase, so the same sequence of requests), with the
    injector running if given; returns the tally, the seconds until the last client finished, and the machine's
    1-minute load average every 10 s (the machine is shared: the phases are compared under the load they had)."""
    tally, stop = Tally(), threading.Event()
    threads = [threading.Thread(target=client_loop, args=(url, pool, stop, tally, seed * 100 + n, hang_s))
               for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    if injector is not None:
        injector.start()
    loads = []
    while (left := started + seconds - time.monotonic()) > 0:
        time.sleep(min(10.0, left))
        loads.append(os.getloadavg()[0])
    if injector is not None:
        injector.stop()
    stop.set()
    for thread in threads:
        thread.join(hang_s + 5)
    return tally, time.monotonic() - started, loads


def phase_figures(tally: Tally, elapsed: float, loads: list[float]) -> dict[str, Any]:
    """What a phase held: items/s over its whole length (the last requests' tails included), and of those the
    items with a verdict (ok, no_answer: not cut short by a fault); statuses, latency, the machine's load."""
    latencies = tally.latencies
    verdicts = tally.statuses.get("ok", 0) + tally.statuses.get("no_answer", 0)
    return {"elapsed_s": round(elapsed, 1), "items_per_s": round(tally.counts.get("items", 0) / elapsed, 2),
            "verdicts_per_s": round(verdicts / elapsed, 2),
            "load_1min": {"mean": round(sum(loads) / len(loads), 2) if loads else None,
                          "max": round(max(loads), 2) if loads else None},
            "counts": dict(tally.counts), "statuses": dict(tally.statuses),
            "latency_s": {"p50": round(percentile(latencies, 50), 3) if latencies else None,
                          "p99": round(percentile(latencies, 99), 3) if latencies else None,
                          "max": round(max(latencies), 3) if latencies else None}}


def failures(tally: Tally) -> int:
    """What fails a phase, quiet or faulty: a problem, a hang, a wrong verdict, a lost item."""
    counts = tally.counts
    return (counts.get("problems", 0) + counts.get("hangs", 0) + counts.get("wrong_verdicts", 0)
            + counts.get("items_lost", 0))


def run(minutes: float, quiet_minutes: float, clients: int, fault_every_s: float, seed: int, runtime: str,
        image_tag: str) -> dict[str, Any]:
    from bench.common import Server

    become_subreaper()
    tmp = Path(tempfile.mkdtemp(prefix="rewardgym-soak-"))
    os.environ["TMPDIR"] = str(tmp)  # the server's temp files land here, where they can be counted
    owner = f"soak-{secrets.token_hex(4)}"
    containers = SoakContainers(owner, tmp / "sockets") if runtime == "docker" else None
    server = Server(*server_args(runtime, tmp, owner, image_tag))
    try:
        pool = client_pool(server.url)
        # The gateway's own budget for a request: the item deadline times the rounds it may queue behind, plus slack.
        hang_s = ITEM_DEADLINE_S * math.ceil(clients * MAX_ITEMS / PROCESSES) + 30
        time.sleep(3)
        before = Resources.measure(server.process.pid, tmp, containers)
        load_at_start = [round(load, 2) for load in os.getloadavg()]
        quiet = run_phase(server.url, pool, clients, seed, hang_s, quiet_minutes * 60)
        injector = FaultInjector(server.process.pid, server.url, random.Random(seed), fault_every_s, containers)
        faulty = run_phase(server.url, pool, clients, seed, hang_s, minutes * 60, injector)
        after = Resources.settle(server.process.pid, tmp, before, server.url, containers)
    finally:
        server.stop()
    reap_orphans(-1)
    resource_problems = before.compare(after) + leftovers(containers)
    shutil.rmtree(tmp, ignore_errors=True)  # counted already; the next run gets its own
    figures = phase_figures(*faulty)
    quiet_figures = phase_figures(*quiet)
    return {
        "runtime": runtime, "minutes": minutes, "quiet_minutes": quiet_minutes, "clients": clients,
        "families": FAMILIES, "processes_per_family": PROCESSES, "item_deadline_s": ITEM_DEADLINE_S,
        "hang_bound_s": hang_s, "normal_items_in_pool": sum(item.expected is not None for items in pool.values()
                                                            for item in items),
        **figures, "faults": injector.counts(), "fault_misses": injector.misses,
        "quiet": quiet_figures,
        "throughput_ratio_faulty_to_quiet": ratio(figures, quiet_figures, "items_per_s"),
        "verdicts_ratio_faulty_to_quiet": ratio(figures, quiet_figures, "verdicts_per_s"),
        "resources": {"before": before.as_dict(), "after": after.as_dict(), "problems": resource_problems,
                      "tolerance": Resources.TOLERANCE},
        "problems": quiet[0].problems + faulty[0].problems,
        "passed": figures["items_per_s"] > 0 and not (failures(quiet[0]) + failures(faulty[0])
                                                      + len(resource_problems)),
        "load_average_at_start": load_at_start, "load_average_at_end": [round(load, 2) for load in os.getloadavg()],
    }


def ratio(faulty: dict[str, Any], quiet: dict[str, Any], key: str) -> float | None:
    return round(faulty[key] / quiet[key], 3) if quiet[key] else None


def leftovers(containers: SoakContainers | None) -> list[str]:
    """Processes (and containers) of ours still there after the server stopped: there must be none."""
    problems = []
    processes = [p.pid for p in server_tree(os.getpid())[1:]]
    if processes:
        problems.append(f"processes left after the server stopped: {processes}")
    if containers is not None and containers.every():
        problems.append(f"containers left after the server stopped: {[c.name for c in containers.every()]}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="with faults")
    parser.add_argument("--quiet-minutes", type=float, default=None,
                        help="the same load first, with no fault (default: as long as --minutes, so that both phases "
                             "send the same sequence of requests)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--fault-every-s", type=float, default=3.0, help="mean seconds between faults")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runtime", choices=["local", "docker"], default="local",
                        help="docker: the families in worker containers, code in sandbox containers")
    parser.add_argument("--image-tag", default="latest", help="docker: tag of the rewardgym/<family> images")
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default bench/results/soak.json)")
    args = parser.parse_args()
    quiet_minutes = args.minutes if args.quiet_minutes is None else args.quiet_minutes
    figures = run(args.minutes, quiet_minutes, args.clients, args.fault_every_s, args.seed, args.runtime,
                  args.image_tag)
    if args.out is None:
        path = save("soak", figures)
    else:
        args.out.write_text(json.dumps({"machine": machine(), **figures}, indent=2) + "\n")
        path = args.out
    counts, quiet = figures["counts"], figures["quiet"]
    print(f"quiet {quiet['elapsed_s']} s: {quiet['counts'].get('items', 0)} items ({quiet['items_per_s']} items/s, "
          f"{quiet['verdicts_per_s']} with a verdict), statuses {quiet['statuses']}, latency {quiet['latency_s']}, "
          f"load {quiet['load_1min']}")
    print(f"faulty {figures['elapsed_s']} s, {args.clients} clients, {args.runtime} runtime: "
          f"{counts.get('requests', 0)} requests, {counts.get('items', 0)} items ({figures['items_per_s']} items/s, "
          f"{figures['verdicts_per_s']} with a verdict), statuses {figures['statuses']}, load {figures['load_1min']}")
    print(f"throughput under faults / quiet: items {figures['throughput_ratio_faulty_to_quiet']}, "
          f"with a verdict {figures['verdicts_ratio_faulty_to_quiet']}")
    print(f"normal items: {counts.get('normal_as_expected', 0)} as on the quiet server, "
          f"{counts.get('normal_null_under_faults', 0)} null under faults, {counts.get('wrong_verdicts', 0)} wrong; "
          f"hostile {counts.get('hostile_items', 0)}; malformed {counts.get('malformed_requests', 0)}; "
          f"hangs {counts.get('hangs', 0)}; lost {counts.get('items_lost', 0)}")
    print(f"faults {figures['faults']}; latency {figures['latency_s']}; load average (1, 5, 15 min) at start "
          f"{figures['load_average_at_start']}, at end {figures['load_average_at_end']}")
    print(f"resources before {brief(figures['resources']['before'])} after {brief(figures['resources']['after'])}")
    for problem in figures["problems"] + figures["resources"]["problems"]:
        print("  problem:", problem)
    print(f"{'PASS' if figures['passed'] else 'FAIL'} ({path})")
    return 0 if figures["passed"] else 1


def brief(resources: dict[str, Any]) -> dict[str, Any]:
    """The resource figures without the long lists (those stay in the JSON)."""
    return {k: v for k, v in resources.items() if k not in ("temp_paths", "fds_by_process")}


if __name__ == "__main__":
    sys.exit(main())
