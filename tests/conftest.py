"""Shared fixtures: a real gateway with real workers, started as `rewardgym serve` in a subprocess."""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOY_FAMILY = "tests.support.toy_family:FAMILY"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=kwargs.pop("timeout", 60), **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(tmp_path: Path, *args: str, ready_timeout: float = 90,
                 headers: dict[str, str] | None = None, ready_path: str = "/readyz") -> RunningServer:
    """`rewardgym serve *args` on a free loopback port, once `ready_path` (asked with `headers`) answers 200."""
    port = free_port()
    log_path = tmp_path / f"server-{port}.log"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "rewardgym.cli", "serve", "--port", str(port), *args],
        cwd=ROOT, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = RunningServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + ready_path, timeout=2, headers=headers).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"server not ready after {ready_timeout} s:\n{server.log()}")


def stop_server(server: RunningServer) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


@pytest.fixture(scope="session")
def toy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A gateway hosting the toy family, with small limits so 413/429 are reachable in tests."""
    server = start_server(tmp_path_factory.mktemp("toy"), "--families", TOY_FAMILY, "--processes", "2",
                          "--max-body-bytes", str(4 * 1024 * 1024), "--max-items-per-request", "1000",
                          "--max-queued-items", "1500")
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def math_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("math"), "--families", "math", "--processes", "2")
    yield server
    stop_server(server)


@functools.lru_cache(maxsize=1)
def docker_available() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.lru_cache(maxsize=1)
def bwrap_unavailable() -> str | None:
    """Why bubblewrap cannot isolate sandboxes here, or None when it can."""
    from rewardgym_sandboxes.bwrap import probe

    result = probe()
    return None if result.ok else result.reason


@functools.lru_cache(maxsize=1)
def slurm_unavailable() -> str | None:
    """Why no Slurm cluster answers here, or None when `sinfo` lists a responding node."""
    try:
        done = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"sinfo failed: {exc}"
    states = done.stdout.split()
    if done.returncode != 0 or not any(s.rstrip("*") in ("idle", "mix", "alloc") for s in states):
        return f"no responding Slurm node (sinfo: {done.stdout.strip() or done.stderr.strip()})"
    return None


def _require(item: pytest.Item, marker: str, reason: str | None, how: str) -> None:
    if item.get_closest_marker(marker) is None or reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{marker} is required under CI=true ({how}) but: {reason}")
    pytest.skip(f"{reason} ({how})")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `docker` skip without a Docker engine, except under CI=true, where that is a failure.
    Same for `bwrap` (bubblewrap able to create namespaces) and `slurm` (a responding Slurm cluster)."""
    if item.get_closest_marker("bwrap") is not None:
        _require(item, "bwrap", bwrap_unavailable(), "scripts/setup.sh installs bubblewrap")
    if item.get_closest_marker("slurm") is not None:
        _require(item, "slurm", slurm_unavailable(), "scripts/slurm-up.sh starts a one-node cluster")
    if item.get_closest_marker("docker") is None:
        return
    if not docker_available():
        if os.environ.get("CI") == "true":
            pytest.fail("Docker is required under CI=true (scripts/docker-up.sh starts it) but `docker info` failed")
        pytest.skip("no Docker engine (scripts/docker-up.sh starts one)")
