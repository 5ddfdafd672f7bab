"""Several nodes, simulated: TCP workers each in a network namespace of its own, reached over a veth pair on a
private range this test creates and removes (an `unreachable` route holds the whole range meanwhile, so nothing
else is contacted, even after a node is gone), with the shared token. One node is lost
mid-batch (its worker killed, its namespace torn down): no item is lost, the rest go to the other nodes. Two
workers of one family, one stopped mid-batch of 2,000: 2,000 results, none lost, none error."""

from __future__ import annotations

import concurrent.futures
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from rewardgym.auth import write_token_file
from tests.conftest import ROOT, TOY_FAMILY, start_server, stop_server
from tests.test_replicas import items_per_worker

SUBNET = "10.213"  # 10.213.<node>.0/30: host .1, worker .2 (private, made and removed here)


def _netns_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed"
    return None


@pytest.fixture(autouse=True)
def _needs_netns():
    reason = _netns_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"under CI=true these tests must run, but {reason}")
        pytest.skip(reason)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@dataclass
class Node:
    """A simulated node: a network namespace with one toy worker on a veth address."""

    name: str
    host_link: str
    url: str
    process: subprocess.Popen | None = None

    def kill(self) -> None:
        """The node is lost: its worker dies, its namespace and link are torn down."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        subprocess.run(["ip", "link", "del", self.host_link], capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=30)


def make_node(index: int, tag: str, token_file: Path, log_dir: Path) -> Node:
    name, host_link = f"rg{tag}n{index}", f"rg{tag}h{index}"
    net = f"{SUBNET}.{index}"
    _ip("netns", "add", name)
    node = Node(name, host_link, f"http://{net}.2:9000")
    _ip("link", "add", host_link, "type", "veth", "peer", "name", f"rg{tag}p{index}")
    _ip("link", "set", f"rg{tag}p{index}", "netns", name)
    _ip("addr", "add", f"{net}.1/30", "dev", host_link)
    _ip("link", "set", host_link, "up")
    _ip("netns", "exec", name, "ip", "addr", "add", f"{net}.2/30", "dev", f"rg{tag}p{index}")
    _ip("netns", "exec", name, "ip", "link", "set", f"rg{tag}p{index}", "up")
    _ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    node.process = subprocess.Popen(
        ["ip", "netns", "exec", name, sys.executable, "-m", "rewardgym.worker", "--family", TOY_FAMILY,
         "--host", f"{net}.2", "--port", "9000", "--token-file", str(token_file), "--processes", "1"],
        cwd=ROOT, env=env, stdout=(log_dir / f"{name}.log").open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    return node


@pytest.fixture()
def nodes(tmp_path):
    tag = secrets.token_hex(2)
    token_file = tmp_path / "worker.token"
    write_token_file(str(token_file))
    made: list[Node] = []
    # While the test runs, the range is unreachable but through its veth pairs: once a node is torn down, packets
    # to it fail at once here instead of following the default route off this machine.
    _ip("route", "add", "unreachable", f"{SUBNET}.0.0/16")
    try:
        for index in range(3):
            made.append(make_node(index + 1, tag, token_file, tmp_path))
        for node in made:
            _wait_healthy(node)
        yield made, token_file
    finally:
        for node in made:
            node.kill()
        _ip("route", "del", "unreachable", f"{SUBNET}.0.0/16")
    leftover = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"rg{tag}" not in leftover


def _wait_healthy(node: Node) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(node.url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert node.process.poll() is None, f"worker in {node.name} exited"
        time.sleep(0.2)
    raise AssertionError(f"worker in {node.name} not healthy after 60 s")


def _gateway(tmp_path: Path, urls: list[str], token_file: Path):
    args = ["--runtime", "attached", "--worker-token-file", str(token_file), "--expect-families", "toy"]
    for url in urls:
        args += ["--worker-url", url]
    return start_server(tmp_path, *args)


def _results(futures) -> list[dict]:
    out = []
    for future in futures:
        response = future.result()
        assert response.status_code == 200, (response.status_code, response.text[:500])
        out += response.json()["results"]
    return out


def _items(prefix: str, count: int, sleep_every: int = 0) -> list[dict]:
    return [{"task": {"answer": str(n)}, "id": f"{prefix}{n}",
             "completion": "!sleep 0.02" if sleep_every and n % sleep_every == 0 else str(n)} for n in range(count)]


def test_a_node_lost_mid_batch_loses_no_item_and_the_others_take_its_share(tmp_path, nodes):
    made, token_file = nodes
    server = _gateway(tmp_path, [n.url for n in made], token_file)
    try:
        with server.client(timeout=120) as http, concurrent.futures.ThreadPoolExecutor(12) as pool:
            assert httpx.get(made[0].url + "/v1/envs", timeout=5).status_code == 401  # the token is required
            batches = [{"items": _items(f"b{b}-", 50, sleep_every=1)} for b in range(12)]
            futures = [pool.submit(http.post, "/score/toy_echo", json=batch) for batch in batches]
            time.sleep(1.0)  # every node is busy with some of these
            made[0].kill()
            results = _results(futures)
            shares = items_per_worker(http.get("/metrics").text)
            after = [pool.submit(http.post, "/score/toy_echo", json={"items": _items(f"a{b}-", 40)})
                     for b in range(6)]
            results_after = _results(after)
            shares_after = items_per_worker(http.get("/metrics").text)
    finally:
        stop_server(server)
    assert len(results) == 600 and {r["id"] for r in results} == {f"b{b}-{n}" for b in range(12) for n in range(50)}
    assert {r["status"] for r in results} == {"ok"}, [r for r in results if r["status"] != "ok"][:3]
    assert all(shares.get(n.url, 0) > 0 for n in made), shares  # all three served before the loss
    assert len(results_after) == 240 and all(r["status"] == "ok" and r["reward"] == 1.0 for r in results_after)
    gained = {n.url: shares_after.get(n.url, 0) - shares.get(n.url, 0) for n in made}
    assert gained[made[0].url] == 0 and gained[made[1].url] > 0 and gained[made[2].url] > 0, gained


def test_two_workers_one_stopped_mid_batch_of_2000(tmp_path, nodes):
    made, token_file = nodes
    pair = made[:2]
    server = _gateway(tmp_path, [n.url for n in pair], token_file)
    try:
        with server.client(timeout=300) as http, concurrent.futures.ThreadPoolExecutor(20) as pool:
            futures = [pool.submit(http.post, "/score/toy_echo", json={"items": _items(f"r{r}-", 100, 4)})
                       for r in range(20)]
            time.sleep(1.0)
            os.killpg(pair[1].process.pid, signal.SIGTERM)  # stopped, as a worker whose step ends
            results = _results(futures)
            shares = items_per_worker(http.get("/metrics").text)
    finally:
        stop_server(server)
    assert len(results) == 2000 and len({r["id"] for r in results}) == 2000
    assert {r["status"] for r in results} == {"ok"}, [r["details"] for r in results if r["status"] != "ok"][:3]
    assert all(shares.get(n.url, 0) > 0 for n in pair), shares  # both received items
