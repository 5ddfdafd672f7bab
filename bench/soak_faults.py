"""The soak's fault injector (kills scoring processes, workers, worker containers and sandbox containers at random)
and its resource accounting."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psutil

if TYPE_CHECKING:
    from bench.soak_containers import SoakContainers


def server_tree(pid: int) -> list[psutil.Process]:
    """`pid` and every process under it (orphans of a subreaper included)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def reap_orphans(keep_pid: int) -> None:
    """Collect the exit status of orphans re-parented to us (we are a subreaper), never the server's own."""
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None or info.si_pid == keep_pid:
            return
        os.waitpid(info.si_pid, 0)


def workers(gateway_pid: int, containers: SoakContainers | None = None) -> list[psutil.Process]:
    """The worker processes: the gateway's children (local runtime), or the one in each worker container."""
    if containers is not None:
        return containers.worker_processes()
    found = []
    for child in psutil.Process(gateway_pid).children():
        try:
            if "rewardgym.worker" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


def scoring_processes(worker: psutil.Process) -> list[psutil.Process]:
    """Children of a worker's fork server (how tests/test_gateway.py finds them)."""
    try:
        servers = [p for p in worker.children() if "forkserver" in " ".join(p.cmdline())]
        return [p for server in servers for p in server.children()]
    except psutil.Error:
        return []


LOCAL_FAULTS = {"scoring_process": 0.8, "worker": 0.2}
DOCKER_FAULTS = {"scoring_process": 0.6, "worker_container": 0.2, "sandbox_container": 0.2}


class FaultInjector(threading.Thread):
    """Every ~`every_s` seconds (exponential gaps) one fault: SIGKILL a scoring process or a whole worker (local
    runtime), or a scoring process in a worker container, or `docker kill` a worker or sandbox container (Docker
    runtime). The first faults take each kind in turn, so that even a short run sees every kind; then kinds are
    drawn by weight. A worker or worker container is killed only while every worker is ready (otherwise a scoring
    process is), so the server is never left with none."""

    def __init__(self, gateway_pid: int, url: str, rng: random.Random, every_s: float,
                 containers: SoakContainers | None = None) -> None:
        super().__init__(daemon=True)
        self.gateway_pid, self.url, self.rng, self.every_s = gateway_pid, url, rng, every_s
        self.containers = containers
        self.weights = LOCAL_FAULTS if containers is None else DOCKER_FAULTS
        self.done = threading.Event()
        self.kills: Counter = Counter()
        self.misses: list[str] = []

    def run(self) -> None:
        while not self.done.wait(self.rng.expovariate(1 / self.every_s)):
            try:
                self.strike()
            except Exception as exc:  # noqa: BLE001 - the victim was already gone (psutil, Docker API): counted
                self.kills["missed"] += 1
                if len(self.misses) < 5:
                    self.misses.append(repr(exc)[:200])

    def choose(self) -> str:
        """The first kind not injected yet (in order), then drawn by weight."""
        missing = [kind for kind in self.weights if not self.kills[kind]]
        return missing[0] if missing else self.rng.choices(list(self.weights), list(self.weights.values()))[0]

    def strike(self) -> None:
        kind = self.choose()
        if kind in ("worker", "worker_container") and httpx.get(self.url + "/readyz", timeout=5).status_code != 200:
            kind = "scoring_process"
        if kind == "worker":
            self.rng.choice(workers(self.gateway_pid)).send_signal(signal.SIGKILL)
        elif kind == "worker_container":
            self.containers.kill(self.rng.choice(self.containers.workers()))
        elif kind == "sandbox_container":
            self.containers.kill(self.rng.choice(self.containers.sandboxes()))
        else:
            victims = [p for worker in workers(self.gateway_pid, self.containers) for p in scoring_processes(worker)]
            os.kill(self.rng.choice(victims).pid, signal.SIGKILL)
        self.kills[kind] += 1

    def stop(self) -> None:
        self.done.set()
        self.join(10)

    def counts(self) -> dict[str, int]:
        return dict(self.kills)


@dataclass
class Resources:
    """The server's footprint: RSS of the gateway and its workers, and of the whole tree; processes; open file
    descriptors; files under its private TMPDIR; and with the Docker runtime, the same inside its containers."""

    gateway_and_workers_rss_mib: float
    tree_rss_mib: float
    processes: int
    open_fds: int
    temp_files: int
    temp_paths: list[str]
    fds_by_process: dict[str, int]
    containers: int = 0
    container_processes: int = 0
    container_rss_mib: float = 0.0
    container_fds: int = 0
    container_temp_files: int = 0

    TOLERANCE = {"rss": "end <= start * 1.25 + 64 MiB", "processes": "end <= start", "open_fds": "end <= start + 16",
                 "temp_files": "end <= start", "containers": "end <= start (same for their processes and temp "
                                                             "files; RSS and fds as above)"}

    @classmethod
    def measure(cls, gateway_pid: int, tmp: Path, containers: SoakContainers | None = None) -> "Resources":
        """The tree is every descendant of this (subreaper) process: the server's, and any orphan it left."""
        reap_orphans(gateway_pid)
        tree = server_tree(os.getpid())[1:]
        main = [psutil.Process(gateway_pid), *workers(gateway_pid, containers)]
        paths = sorted(str(Path(root, name).relative_to(tmp)) for root, dirs, files in os.walk(tmp)
                       for name in dirs + files)
        by_process: Counter = Counter()
        for process in tree:
            by_process[_name(process)] += _fds(process)
        return cls(gateway_and_workers_rss_mib=round(_rss(main), 1), tree_rss_mib=round(_rss(tree), 1),
                   processes=len(tree), open_fds=sum(by_process.values()), temp_files=len(paths),
                   temp_paths=paths, fds_by_process=dict(by_process),
                   **(containers.footprint() if containers is not None else {}))

    @classmethod
    def settle(cls, gateway_pid: int, tmp: Path, before: "Resources", url: str,
               containers: SoakContainers | None = None, wait_s: float = 60) -> "Resources":
        """Measure once the server is ready again and idle, giving replaced processes up to `wait_s` to settle."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                ready = httpx.get(url + "/readyz", timeout=5).status_code == 200
            except httpx.HTTPError:
                ready = False
            now = cls.measure(gateway_pid, tmp, containers)
            if (ready and not before.compare(now)) or time.monotonic() > deadline:
                return now
            time.sleep(2)

    def compare(self, after: "Resources") -> list[str]:
        problems = []
        if after.gateway_and_workers_rss_mib > self.gateway_and_workers_rss_mib * 1.25 + 64:
            problems.append(f"RSS of gateway and workers grew from {self.gateway_and_workers_rss_mib} MiB "
                            f"to {after.gateway_and_workers_rss_mib} MiB")
        if after.tree_rss_mib > self.tree_rss_mib * 1.25 + 64:
            problems.append(f"RSS of the server tree grew from {self.tree_rss_mib} to {after.tree_rss_mib} MiB")
        if after.processes > self.processes:
            problems.append(f"processes: {self.processes} before, {after.processes} after")
        if after.open_fds > self.open_fds + 16:
            problems.append(f"open file descriptors: {self.open_fds} before, {after.open_fds} after "
                            f"({self.fds_by_process} -> {after.fds_by_process})")
        if after.temp_files > self.temp_files:
            new = sorted(set(after.temp_paths) - set(self.temp_paths))
            problems.append(f"temp files: {self.temp_files} before, {after.temp_files} after (new: {new[:20]})")
        return problems + self.compare_containers(after)

    def compare_containers(self, after: "Resources") -> list[str]:
        """Containers, and what runs inside them, back where they started (all zero with the local runtime)."""
        problems = [f"{what.replace('_', ' ')}: {getattr(self, what)} before, {getattr(after, what)} after"
                    for what in ("containers", "container_processes", "container_temp_files")
                    if getattr(after, what) > getattr(self, what)]
        if after.container_rss_mib > self.container_rss_mib * 1.25 + 64:
            problems.append(f"RSS in the containers grew from {self.container_rss_mib} MiB to "
                            f"{after.container_rss_mib} MiB")
        if after.container_fds > self.container_fds + 16:
            problems.append(f"open file descriptors in the containers: {self.container_fds} before, "
                            f"{after.container_fds} after")
        return problems

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rss(processes: list[psutil.Process]) -> float:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def _name(process: psutil.Process) -> str:
    """A short, stable name: the module or program it runs."""
    try:
        words = process.cmdline()
    except psutil.Error:
        return "gone"
    module = next((w for w in words if w.startswith(("rewardgym", "rewardgym_sandboxes"))), None)
    return module or (os.path.basename(words[0]) if words else process.name())


def _fds(process: psutil.Process) -> int:
    try:
        return process.num_fds()
    except psutil.Error:
        return 0
