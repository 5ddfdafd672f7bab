"""Gateways for the client tests: a busy one (tiny queue, so 429 is easy to reach) and one on a Unix socket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.conftest import ROOT, TOY_FAMILY, RunningServer, start_server, stop_server


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One scoring process and at most 4 queued items: a second request while 4 items run gets 429."""
    server = start_server(tmp_path_factory.mktemp("busy"), "--families", TOY_FAMILY, "--processes", "1",
                          "--max-queued-items", "4", "--max-items-per-request", "4")
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def socket_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The toy gateway listening on a Unix socket only; yields the socket's path."""
    folder = tmp_path_factory.mktemp("uds")
    socket_path = folder / "gateway.sock"
    log = (folder / "server.log").open("wb")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.client.socket_gateway:create", "--factory",
         "--uds", str(socket_path), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(process, socket_path, folder / "server.log")
        yield str(socket_path)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)


def _wait_ready(process: subprocess.Popen, socket_path: Path, log_path: Path, timeout_s: float = 90) -> None:
    transport = httpx.HTTPTransport(uds=str(socket_path))
    deadline = time.monotonic() + timeout_s
    with httpx.Client(transport=transport, base_url="http://gateway", timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"gateway exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if socket_path.exists() and http.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"gateway not ready after {timeout_s} s:\n{log_path.read_text()}")
