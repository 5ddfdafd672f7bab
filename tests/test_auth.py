"""Shared tokens off loopback: a TCP worker and a gateway that require them, token files of mode 0600, 401 without
the right token (and the request is never served), /healthz open, and workers joining and leaving through a
workers file while the gateway serves."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rewardgym.auth import TokenFileError, is_loopback, read_token_file, write_token_file
from tests.conftest import ROOT, TOY_FAMILY, free_port, start_server, stop_server
from tests.test_replicas import kill

ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def test_token_files_must_be_private_and_long_enough(tmp_path):
    path = tmp_path / "token"
    token = write_token_file(str(path))
    assert read_token_file(str(path)) == token and oct(path.stat().st_mode & 0o777) == "0o600"
    path.chmod(0o644)
    with pytest.raises(TokenFileError, match="mode 0600"):
        read_token_file(str(path))
    path.write_text("short\n")
    path.chmod(0o600)
    with pytest.raises(TokenFileError, match="at least 16"):
        read_token_file(str(path))
    with pytest.raises(TokenFileError, match="readable"):
        read_token_file(str(tmp_path / "absent"))


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                             ("0.0.0.0", False), ("10.1.2.3", False), ("node17", False)])
def test_loopback(host, loopback):
    assert is_loopback(host) is loopback


def start_worker(tmp_path: Path, *args: str) -> tuple[str, subprocess.Popen]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "rewardgym.worker", "--family", TOY_FAMILY, "--port", str(port), "--processes", "1",
         *args], cwd=ROOT, env=ENV, stdout=(tmp_path / f"worker-{port}.log").open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not _healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((tmp_path / f"worker-{port}.log").read_text())
        time.sleep(0.1)
    return url, process


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_a_worker_off_loopback_refuses_to_start_without_a_token(tmp_path):
    answer = subprocess.run([sys.executable, "-m", "rewardgym.worker", "--family", TOY_FAMILY, "--host", "0.0.0.0",
                             "--port", str(free_port())], cwd=ROOT, env=ENV, capture_output=True, text=True,
                            timeout=60)
    assert answer.returncode != 0 and "expected --token-file" in answer.stderr


def test_a_gateway_off_loopback_refuses_to_start_without_a_token_unless_insecure(tmp_path):
    answer = subprocess.run([sys.executable, "-m", "rewardgym.cli", "serve", "--host", "0.0.0.0", "--port",
                             str(free_port()), "--families", TOY_FAMILY], cwd=ROOT, env=ENV, capture_output=True,
                            text=True, timeout=60)
    assert answer.returncode == 2 and "--token-file" in answer.stderr and "--insecure" in answer.stderr


def test_tokens_guard_the_worker_and_the_gateway_and_wrong_ones_are_never_served(tmp_path):
    worker_token_file, client_token_file = tmp_path / "workers.token", tmp_path / "clients.token"
    worker_token, client_token = write_token_file(str(worker_token_file)), write_token_file(str(client_token_file))
    url, worker = start_worker(tmp_path, "--token-file", str(worker_token_file))
    item = {"task": {"answer": "1"}, "completion": "1"}
    try:
        assert httpx.get(url + "/healthz").status_code == 200  # liveness stays open
        for headers in ({}, {"authorization": "Bearer wrong-token-wrong-token"}, {"authorization": worker_token}):
            refused = httpx.post(url + "/score/toy_echo", json=item, headers=headers)
            assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        sleeper = {"task": {"answer": "1"}, "completion": "!sleep 3"}
        started = time.monotonic()
        assert httpx.post(url + "/score/toy_echo", json=sleeper).status_code == 401
        assert time.monotonic() - started < 2  # refused before any scoring
        served = httpx.post(url + "/score/toy_echo", json=item, headers={"authorization": f"Bearer {worker_token}"})
        assert served.json()["reward"] == 1.0

        server = start_server(tmp_path, "--runtime", "attached", "--worker-url", url, "--worker-token-file",
                              str(worker_token_file), "--token-file", str(client_token_file),
                              headers={"authorization": f"Bearer {client_token}"})
        try:
            assert httpx.get(server.url + "/healthz").status_code == 200
            assert httpx.post(server.url + "/score/toy_echo", json=item).status_code == 401
            answer = httpx.post(server.url + "/score/toy_echo", json=item,
                                headers={"authorization": f"Bearer {client_token}"})
            assert answer.json()["reward"] == 1.0
        finally:
            stop_server(server)
    finally:
        kill(worker)


def test_workers_join_and_leave_through_the_workers_file(tmp_path):
    workers_file = tmp_path / "workers.txt"
    url_a, worker_a = start_worker(tmp_path)
    url_b, worker_b = start_worker(tmp_path)
    workers_file.write_text(f"# the orchestrator's list\n{url_a}\n")
    server = start_server(tmp_path, "--runtime", "attached", "--workers-file", str(workers_file),
                          "--expect-families", "toy")
    try:
        with server.client() as http:
            assert set(http.get("/readyz").json()["workers"]) == {url_a}
            workers_file.write_text(f"{url_a}\n{url_b}  # joined\n")
            _wait_for(lambda: http.get("/readyz").json()["workers"] == {url_a: "ready", url_b: "ready"})
            workers_file.write_text(f"{url_b}\n")
            _wait_for(lambda: set(http.get("/readyz").json()["workers"]) == {url_b})
            kill(worker_a)  # gone from the file and from the machine: nothing is sent to it
            batch = {"items": [{"task": {"answer": str(n)}, "completion": str(n)} for n in range(20)]}
            assert [r["reward"] for r in http.post("/score/toy_echo", json=batch).json()["results"]] == [1.0] * 20
    finally:
        stop_server(server)
        kill(worker_a)
        kill(worker_b)


def _wait_for(condition, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
