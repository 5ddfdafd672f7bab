"""Helpers shared by the benchmarks: a server in a subprocess, machine description, JSON output."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from rewardgym.server.worker_client import WorkerClient, WorkerResponse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def machine() -> dict[str, Any]:
    with open("/proc/meminfo") as meminfo:
        mem_kb = int(meminfo.readline().split()[1])
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor())
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gib": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`rewardgym serve` in its own session, so the whole tree can be stopped at once."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rewardgym.cli", "serve", "--port", str(self.port), *args],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        readyz = "no answer"
        while True:
            try:
                answer = httpx.get(self.url + "/readyz", timeout=2)
                if answer.status_code == 200:
                    return
                readyz = answer.text[:2000]  # which workers are missing, and why
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"server did not become ready; /readyz: {readyz}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def save(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **figures}, indent=2) + "\n")
    return path


def tree_cpu_s(server: Server) -> float:
    """User + system CPU seconds of the server process and every descendant (reaped children included)."""
    import psutil

    root = psutil.Process(server.process.pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


class LeanClient:
    """A keep-alive HTTP/1.1 client that spends little CPU per request (the gateway's own worker client), for
    benchmarks that share the machine's cores with the server: httpx spent milliseconds of CPU per request here,
    which a trainer on another node would not take from the reward server. Bodies are encoded before timing,
    as the direct loops get their items ready-made."""

    def __init__(self, url: str) -> None:
        self._runner = asyncio.Runner()
        self.http = WorkerClient.for_url(url)

    def post(self, path: str, body: bytes, timeout: float = 600) -> WorkerResponse:
        return self._runner.run(self.http.request("POST", path, body, timeout))

    def close(self) -> None:
        self._runner.run(self.http.aclose())
        self._runner.close()
