"""rewardgym_sandboxes.pool without Docker: test-data caching, slot selection across processes, retries, recycling, and
the local fallback. Fake supervisors (threads on Unix sockets) stand in for dead or dying slots."""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
import time

import pytest
from sandbox_support import python_job

from rewardgym_sandboxes.client import run_job
from rewardgym_sandboxes.pool import LocalSupervisors, SandboxPool, isolation_summary
from rewardgym_sandboxes.pool import tests_key as make_tests_key
from rewardgym_sandboxes.supervisor.protocol import recv_frame, send_frame


class FakeSlot:
    """A socket that answers like a supervisor: ``mode`` "ok" (after ``delay``), "die" (closes without a
    reply), or "ie"; counts the jobs it got and the most it served at once."""

    def __init__(self, path: str, mode: str = "ok", delay: float = 0.0):
        self.path, self.mode, self.delay = path, mode, delay
        self.jobs = 0
        self.active = self.max_active = 0
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(path)
        self.listener.listen(16)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn) -> None:
        with conn:
            try:
                job = recv_frame(conn)
                with self.lock:  # busy from the job's arrival to just before the reply
                    self.jobs += 1
                    self.active += 1
                    self.max_active = max(self.max_active, self.active)
                time.sleep(self.delay)
                with self.lock:
                    self.active -= 1
                if self.mode == "ok":
                    send_frame(conn, {"verdict": "OK", "tests": [{"verdict": "OK", "stdout": "fake\n"}],
                                      "seen": job})
                elif self.mode == "ie":
                    send_frame(conn, {"verdict": "IE", "error": "supervisor: boom"})
            except OSError:  # the client gave up (timeout test)
                pass


def _stale_socket(path: str) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()  # the file stays, nobody listens: a dead container's socket


def test_tests_key_cache_in_the_supervisor(supervisor):
    tests = [{"stdin": "21\n"}]
    key = make_tests_key(tests)
    keyed = {"language": "python", "source": "print(2 * int(input()))", "tests_key": key}
    assert run_job(supervisor.socket, keyed, 30) == {"verdict": "IE", "error": "tests_missing",
                                                     "isolation": supervisor.isolation}
    assert run_job(supervisor.socket, keyed | {"tests": tests}, 30)["tests"][0]["stdout"] == "42\n"
    assert run_job(supervisor.socket, keyed, 30)["tests"][0]["stdout"] == "42\n"  # from the cache


def test_pool_strips_expected_outputs_and_resends_tests(supervisor):
    pool = SandboxPool(os.path.dirname(supervisor.socket))
    secret = "EXPECTED-OUTPUT-42"
    job = {"language": "python", "source": "import sys\nprint(sys.stdin.read().strip())",
           "tests": [{"stdin": f"in-{i}", "expected": secret} for i in range(3)], "checker": secret}
    for _ in range(2):  # miss (resent with the tests), then hit
        result = pool.run(job, 30)
        assert [t["stdout"] for t in result["tests"]] == ["in-0\n", "in-1\n", "in-2\n"]
        assert result["attempts"] == 1
    assert make_tests_key([{"stdin": "a", "expected": "x"}]) == make_tests_key([{"stdin": "a"}])


def test_limits_over_the_server_maxima_are_refused(supervisor):
    pool = SandboxPool(os.path.dirname(supervisor.socket))
    for limits in ({"time_limit_s": 11}, {"memory_limit_mb": 4096}, {"wall_limit_s": 31}):
        result = pool.run(python_job("print(1)", **limits), 30)
        assert result["verdict"] == "IE" and result["error"].startswith("invalid job"), result
    assert os.path.exists(supervisor.socket)  # an invalid job is not the slot's fault: no recycling
    assert pool.run(python_job("print(1)", time_limit_s=10, memory_limit_mb=1024), 30)["verdict"] == "OK"


def test_dead_socket_is_skipped_and_removed(tmp_path):
    _stale_socket(str(tmp_path / "a.sock"))
    live = FakeSlot(str(tmp_path / "b.sock"))
    result = SandboxPool(str(tmp_path)).run(python_job("print(1)"), 10)
    assert result["verdict"] == "OK" and result["attempts"] == 1 and live.jobs == 1
    assert not (tmp_path / "a.sock").exists()


def test_no_slot_at_all_is_ie_not_an_exception(tmp_path):
    _stale_socket(str(tmp_path / "a.sock"))
    start = time.monotonic()
    result = SandboxPool(str(tmp_path), wait_for_slot_s=1).run(python_job("print(1)"), 10)
    assert result["verdict"] == "IE" and "no sandbox slot" in result["error"]
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("mode", ["die", "ie"])
def test_slot_failing_mid_job_is_recycled_and_the_job_retried_once(tmp_path, mode):
    bad = FakeSlot(str(tmp_path / "a.sock"), mode)
    good = FakeSlot(str(tmp_path / "b.sock"))
    result = SandboxPool(str(tmp_path)).run(python_job("print(1)"), 10)
    assert result["verdict"] == "OK" and result["attempts"] == 2 and (bad.jobs, good.jobs) == (1, 1)
    assert not (tmp_path / "a.sock").exists()  # recycled: its manager replaces it


def test_two_failing_slots_give_ie_never_ok(tmp_path):
    FakeSlot(str(tmp_path / "a.sock"), "die")
    FakeSlot(str(tmp_path / "b.sock"), "ie")
    FakeSlot(str(tmp_path / "c.sock"))
    result = SandboxPool(str(tmp_path)).run(python_job("print(1)"), 10)
    assert result["verdict"] == "IE" and result["attempts"] == 2, result


def test_client_timeout_recycles_the_slot(tmp_path):
    FakeSlot(str(tmp_path / "a.sock"), delay=3)
    start = time.monotonic()
    result = SandboxPool(str(tmp_path), wait_for_slot_s=0.5).run(python_job("print(1)"), 1)
    assert result["verdict"] == "IE" and "timed out" in result["error"]
    assert time.monotonic() - start < 2.5 and not (tmp_path / "a.sock").exists()


def _worker(socket_dir: str, n: int, queue) -> None:
    pool = SandboxPool(socket_dir)
    queue.put([pool.run(python_job("print(1)"), 30)["verdict"] for _ in range(n)])


def test_one_job_per_slot_across_processes(tmp_path):
    slots = [FakeSlot(str(tmp_path / f"{i}.sock"), delay=0.05) for i in range(2)]
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(tmp_path), 5, queue)) for _ in range(4)]
    for p in procs:
        p.start()
    verdicts = [v for _ in procs for v in queue.get(timeout=60)]
    for p in procs:
        p.join(10)
    assert verdicts == ["OK"] * 20
    assert [s.max_active for s in slots] == [1, 1] and sum(s.jobs for s in slots) == 20


def test_local_fallback_recycles_after_max_jobs_and_stops():
    local = LocalSupervisors(slots=1, max_jobs=2)
    try:
        pool = SandboxPool(local.socket_dir)
        first = local.processes[0].pid
        for i in range(5):
            result = pool.run(python_job(f"print({i})"), 30)
            assert result["verdict"] == "OK" and result["tests"][0]["stdout"] == f"{i}\n", result
        assert local.processes[0].pid != first  # replaced after 2 jobs
        info = pool.info()[0]
        assert info["max_jobs"] == 2
        if os.geteuid() == 0:
            assert info["isolation"]["uid"] == 61000 + local.slot_numbers[0]
    finally:
        local.stop()
    assert all(p.poll() is not None for p in local.processes)
    assert not os.path.exists(local.private)


def test_isolation_summary_is_one_line(monkeypatch):
    monkeypatch.delenv("REWARDGYM_SANDBOX_DIR", raising=False)
    monkeypatch.delenv("REWARDGYM_SANDBOX_MODE", raising=False)
    line = isolation_summary()
    assert "\n" not in line and line.startswith(("sandbox: bwrap", "sandbox refused"))
