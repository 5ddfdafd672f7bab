"""Several workers of one family, attached by URL: they share its load, and a stopped one loses no item.

A worker's family comes from its own `/healthz` (not its URL), so two URLs serving `toy` are replicas of one
family; `--expect-families` keeps `/readyz` at 503, naming what is missing, until each expected family is there.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, TOY_FAMILY, free_port, start_server, stop_server


def start_tcp_worker(tmp_path: Path, family: str = TOY_FAMILY) -> tuple[str, subprocess.Popen]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "rewardgym.worker", "--family", family, "--host", "127.0.0.1",
         "--port", str(port), "--processes", "1"],
        cwd=ROOT, env=env, stdout=(tmp_path / f"worker-{port}.log").open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return url, process
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker on {url} did not start")
        time.sleep(0.1)


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def items_per_worker(metrics: str) -> dict[str, float]:
    return {worker: float(count) for worker, count in
            re.findall(r'rewardgym_worker_items_total\{worker="([^"]+)"\} ([0-9.e+]+)', metrics)}


@pytest.fixture()
def two_workers(tmp_path):
    workers = [start_tcp_worker(tmp_path), start_tcp_worker(tmp_path)]
    yield workers
    for _, process in workers:
        kill(process)


def test_two_workers_of_one_family_share_load_and_a_stopped_one_loses_no_item(tmp_path, two_workers):
    (url_a, worker_a), (url_b, _) = two_workers
    server = start_server(tmp_path, "--runtime", "attached", "--worker-url", url_a, "--worker-url", url_b,
                          "--expect-families", "toy")
    try:
        with server.client() as http, concurrent.futures.ThreadPoolExecutor(8) as pool:
            assert http.get("/readyz").json()["missing"] == []
            batch = {"items": [{"task": {"answer": str(n)}, "completion": str(n), "id": str(n)} for n in range(10)]}
            answers = list(pool.map(lambda _: http.post("/score/toy_echo", json=batch), range(8)))
            assert all(a.status_code == 200 for a in answers)
            shares = items_per_worker(http.get("/metrics").text)
            assert set(shares) == {url_a, url_b} and all(share > 0 for share in shares.values()), shares

            slow = {"items": [{"task": {"answer": "x"}, "completion": "!sleep 0.2", "id": f"s{n}"}
                              for n in range(5)]}
            in_flight = [pool.submit(http.post, "/score/toy_echo", json=slow) for _ in range(8)]
            time.sleep(0.4)  # both workers are busy with some of these requests
            kill(worker_a)
            results = [r for future in in_flight for r in future.result().json()["results"]]
            assert len(results) == 40
            assert [r["status"] for r in results] == ["ok"] * 40, [r["details"] for r in results]
            assert all(r["reward"] == 0.0 for r in results)  # "!sleep" is not the answer "x": a real verdict
    finally:
        stop_server(server)


def test_readyz_waits_for_every_expected_family_and_names_the_missing_one(tmp_path, two_workers):
    (url_a, _), _ = two_workers
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    gateway = subprocess.Popen(
        [sys.executable, "-m", "rewardgym.cli", "serve", "--port", str(port), "--runtime", "attached",
         "--worker-url", url_a, "--expect-families", "toy,math"],
        cwd=ROOT, env=env, stdout=(tmp_path / "gateway.log").open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:  # ready once the toy worker is attached, if math were not expected too
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                if answer.json()["workers"].get(url_a) == "ready":
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "gateway.log").read_text()
            time.sleep(0.1)
        assert answer.status_code == 503
        readiness = answer.json()
        assert (readiness["ready"], readiness["workers"], readiness["missing"]) == (False, {url_a: "ready"},
                                                                                   ["family math"])
        scored = httpx.post(f"http://127.0.0.1:{port}/score/toy_echo", json={"task": {"answer": "1"},
                                                                             "completion": "1"})
        assert scored.json()["reward"] == 1.0  # what is attached serves meanwhile
    finally:
        kill(gateway)
