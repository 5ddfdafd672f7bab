"""Issue 7 on the gateway: slow or idle clients cannot starve real ones (finding 10), and /readyz tells the truth
about workers that cannot serve (finding 1). Real `rewardgym serve` processes on loopback."""

from __future__ import annotations

import os
import resource
import selectors
import signal
import socket
import time

import httpx
import pytest

from tests.conftest import TOY_FAMILY, start_server, stop_server

IDLE_CONNECTIONS = 5000
HOLD_S = 30.0


def allow_open_files(count: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < count:
        if hard != resource.RLIM_INFINITY and hard < count:
            pytest.fail(f"this test needs {count} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (count, hard))


def open_idle(url: str, count: int, first_bytes: bytes = b"") -> list[socket.socket]:
    """`count` connections that send `first_bytes` (e.g. half a request's headers) and then nothing."""
    host, port = url.removeprefix("http://").split(":")
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=10)
        if first_bytes:
            sock.sendall(first_bytes)
        sockets.append(sock)
    return sockets


def timed_score(url: str) -> float:
    """Seconds a fresh client takes to get a correct verdict."""
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=10) as client:
        answer = client.post("/score/toy_echo", json={"task": {"answer": "7"}, "completion": "7"})
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200 and answer.json()["reward"] == 1.0, answer.text
    return elapsed


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.mark.slow
def test_5000_idle_connections_held_30_s_do_not_starve_a_real_request_and_are_closed(tmp_path):
    allow_open_files(IDLE_CONNECTIONS + 1024)
    server = start_server(tmp_path, "--families", TOY_FAMILY, "--processes", "1")  # default header timeout
    sockets: list[socket.socket] = []
    try:
        opened = time.monotonic()
        half = IDLE_CONNECTIONS // 2  # half say nothing, half stop in the middle of their headers
        sockets = open_idle(server.url, half) + open_idle(
            server.url, IDLE_CONNECTIONS - half, b"POST /score/toy_echo HTTP/1.1\r\nHost: x\r\n")
        watcher = selectors.DefaultSelector()
        for sock in sockets:
            sock.setblocking(False)
            watcher.register(sock, selectors.EVENT_READ)
        closed_after: list[float] = []
        latencies: list[float] = []
        while time.monotonic() - opened < HOLD_S:
            latencies.append(timed_score(server.url))
            for key, _ in watcher.select(timeout=0.5):
                if closed_by_server(key.fileobj):
                    watcher.unregister(key.fileobj)
                    closed_after.append(time.monotonic() - opened)
        print(f"{len(latencies)} real requests, slowest {max(latencies) * 1000:.0f} ms; idle connections closed "
              f"after {min(closed_after, default=0):.1f}-{max(closed_after, default=0):.1f} s")
        assert max(latencies) < 1.0, f"real requests took up to {max(latencies):.2f} s"
        assert len(closed_after) == IDLE_CONNECTIONS, f"{IDLE_CONNECTIONS - len(closed_after)} idle ones still open"
        assert max(closed_after) < HOLD_S
        assert timed_score(server.url) < 1.0
    finally:
        for sock in sockets:
            sock.close()
        stop_server(server)


def test_past_the_connection_cap_the_longest_idle_connection_makes_room(tmp_path):
    allow_open_files(2048)
    server = start_server(tmp_path, "--families", TOY_FAMILY, "--processes", "1", "--max-connections", "200")
    try:
        idle = open_idle(server.url, 300)
        assert timed_score(server.url) < 1.0
        time.sleep(0.5)
        for sock in idle:
            sock.setblocking(False)
        closed = [sock for sock in idle if _closed_now(sock)]
        assert len(closed) >= 100  # the oldest ones made room; the request in progress was never dropped
        assert all(_closed_now(sock) for sock in idle[:100])
        assert timed_score(server.url) < 1.0
        for sock in idle:
            sock.close()
    finally:
        stop_server(server)


def _closed_now(sock: socket.socket) -> bool:
    try:
        return closed_by_server(sock)
    except BlockingIOError:
        return False


def test_readyz_is_not_ready_while_a_worker_cannot_answer_its_health_check(tmp_path):
    server = start_server(tmp_path, "--families", TOY_FAMILY, "--processes", "1")
    try:
        with server.client(timeout=15) as client:
            assert client.get("/readyz").status_code == 200
            worker = _worker_pid(server.process.pid)
            os.kill(worker, signal.SIGSTOP)  # alive, but serves nothing
            try:
                answer = client.get("/readyz")
                assert answer.status_code == 503 and answer.json()["ready"] is False
                assert any("healthz" in reason for reason in answer.json()["missing"])
            finally:
                os.kill(worker, signal.SIGCONT)
            assert client.get("/readyz").status_code == 200
            assert client.post("/score/toy_echo", json={"task": {"answer": "7"}, "completion": "7"}).json()[
                "reward"] == 1.0
    finally:
        stop_server(server)


def _worker_pid(gateway_pid: int) -> int:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    argv = cmdline.read().split(b"\0")
            except OSError:
                continue
            if parent == gateway_pid and b"rewardgym.worker" in argv:
                return int(entry)
    raise AssertionError(f"no worker process under gateway {gateway_pid}")
