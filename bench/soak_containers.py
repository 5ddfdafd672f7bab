"""The soak's Docker side: the containers this soak's gateway started, found by label (never anyone else's), the
processes inside them, their footprint, and `docker kill`.

Worker containers carry `rewardgym.owner=<owner>` (the soak's own `--owner`); sandbox containers carry
`rewardgym.role=sandbox` and `rewardgym.sandbox.owner=<their socket directory>`, which lies under the soak's
private socket directory. Their processes are seen from the host through `State.Pid` (we run as root).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

CONTAINER_TEMP_DIRS = ("tmp", "dev/shm", "sandbox/work")
"""Where a container's processes leave temp files (`/sandbox/work`: the sandbox supervisor's job dirs)."""


class SoakContainers:
    """This soak's worker and sandbox containers."""

    def __init__(self, owner: str, socket_dir: Path) -> None:
        import docker

        self.owner = owner
        self.socket_dir = str(socket_dir)
        self.client = docker.from_env(timeout=60)

    def workers(self, *, every: bool = False) -> list[Any]:
        """Running worker containers (`every`: stopped ones too, which would be leaks)."""
        return self.client.containers.list(all=every, filters={"label": [
            "rewardgym.managed=true", f"rewardgym.owner={self.owner}"]})

    def sandboxes(self, *, every: bool = False) -> list[Any]:
        """Sandbox containers whose socket directory is ours (Docker filters labels by exact value only)."""
        listed = self.client.containers.list(all=every, filters={"label": ["rewardgym.role=sandbox"]})
        return [c for c in listed if c.labels.get("rewardgym.sandbox.owner", "").startswith(self.socket_dir + "/")]

    def every(self) -> list[Any]:
        return self.workers(every=True) + self.sandboxes(every=True)

    @staticmethod
    def kill(container: Any) -> None:
        """`docker kill`: SIGKILL to the container's init, as when the host's OOM killer or an operator hits it."""
        container.kill()

    def worker_processes(self) -> list[psutil.Process]:
        """Each worker container's worker process: the child of its init (`docker run --init`)."""
        found = []
        for container in self.workers():
            init = _init_process(container)
            if init is not None:
                try:
                    found += init.children()
                except psutil.Error:
                    pass
        return found

    def footprint(self) -> dict[str, Any]:
        """Containers, and the processes, RSS, open fds and temp files inside them (the host sees them all)."""
        containers = self.every()  # an exited container not removed is a leak too
        processes: list[psutil.Process] = []
        temp_files: Counter = Counter()
        for container in containers:
            init = _init_process(container)
            if init is None:
                continue
            processes += _tree(init)
            temp_files[container.name] = _count_files(init.pid)
        return {"containers": len(containers), "container_processes": len(processes),
                "container_rss_mib": round(sum(_rss(p) for p in processes) / 2**20, 1),
                "container_fds": sum(_fds(p) for p in processes),
                "container_temp_files": sum(temp_files.values())}


def _init_process(container: Any) -> psutil.Process | None:
    pid = container.attrs.get("State", {}).get("Pid") or 0
    try:
        return psutil.Process(pid) if pid else None
    except psutil.Error:
        return None


def _tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def _count_files(pid: int) -> int:
    """Files and directories under the container's temp dirs, through /proc/<pid>/root (its mount namespace)."""
    total = 0
    for directory in CONTAINER_TEMP_DIRS:
        for _root, dirs, files in os.walk(f"/proc/{pid}/root/{directory}"):
            total += len(dirs) + len(files)
    return total


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def _fds(process: psutil.Process) -> int:
    try:
        return process.num_fds()
    except psutil.Error:
        return 0
