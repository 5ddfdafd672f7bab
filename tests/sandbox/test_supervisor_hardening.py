"""Issue 7 (hardening), the supervisor as local processes (the no-Docker fallback's mode): a hostile job never
changes the next verdict, never outlives its deadline or its caller, never turns a verdict into an error. Each
case is followed by a correct solution on the same supervisor (one supervisor = one slot), which must pass.
The same cases run through the containers in test_pool_docker.py."""

from __future__ import annotations

import ast
import os
import socket
import time

import hardening_cases as cases
import pytest
from sandbox_support import _running_supervisor, needs_root, python_job
from test_supervisor_hostile import assert_clean_and_alive

from rewardgym_sandboxes.client import run_job
from rewardgym_sandboxes.supervisor.protocol import send_frame

pytestmark = needs_root


@pytest.fixture(scope="module", params=["processes", "bubblewrap"])
def supervisor(request, tmp_path_factory):
    """A supervisor of this module's own, started directly or under bubblewrap (the no-Docker fallback's two
    launchers): the fixes live in the supervisor, so they hold under either."""
    yield from _running_supervisor(tmp_path_factory, bwrap=request.param == "bubblewrap")


def assert_next_job_passes(supervisor, timeout: float = 30) -> None:
    result = run_job(supervisor.socket, cases.CORRECT, timeout)
    assert (result["verdict"], result["tests"][0]["stdout"]) == ("OK", cases.CORRECT_STDOUT), result


# ---- finding 3 ---------------------------------------------------------------------------------------------
def test_ipc_objects_of_a_job_are_gone_for_the_next(supervisor):
    made = supervisor.run(python_job(cases.IPC_MAKE))
    assert made["tests"][0]["stdout"] == cases.IPC_MADE, made
    checked = supervisor.run(python_job(cases.IPC_CHECK))
    assert checked["tests"][0]["stdout"] == cases.IPC_CLEAN, checked
    assert supervisor.isolation["ipcns"] is True
    assert_next_job_passes(supervisor)
    assert_clean_and_alive(supervisor)


def test_a_background_process_of_test_1_is_gone_in_test_2(supervisor):
    result = supervisor.run(cases.BACKGROUND_JOB)
    assert [t["stdout"] for t in result["tests"]] == ["started\n", "gone\n"], result
    assert_next_job_passes(supervisor)


# ---- finding 4 ---------------------------------------------------------------------------------------------
def test_a_job_stops_at_its_deadline(supervisor):
    start = time.monotonic()
    result = supervisor.run(cases.SLOW_TESTS | {"deadline_s": 2.5})
    elapsed = time.monotonic() - start
    assert (result["verdict"], result.get("stopped")) == ("IE", "deadline"), result
    assert elapsed < 4, elapsed
    assert_next_job_passes(supervisor, timeout=3)
    assert_clean_and_alive(supervisor)


def test_a_job_stops_when_its_caller_hangs_up(supervisor):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as caller:
        caller.connect(supervisor.socket)
        send_frame(caller, cases.SLOW_TESTS)
        time.sleep(1.0)  # inside the second test: the caller (a scoring process) is killed at its deadline
    start = time.monotonic()
    assert_next_job_passes(supervisor, timeout=3)  # the slot is free at once, not after ~17 more seconds
    assert time.monotonic() - start < 3
    assert_clean_and_alive(supervisor)


# ---- finding 6 ---------------------------------------------------------------------------------------------
def test_output_of_many_tests_is_a_verdict_not_an_error(supervisor):
    result = supervisor.run(cases.NUL_OUTPUT, timeout=120)
    assert result["verdict"] == "OLE", {k: v for k, v in result.items() if k != "tests"}
    assert len(result["tests"]) == cases.NUL_TESTS
    first_cut = next(t for t in result["tests"] if t["verdict"] == "OLE")
    assert "the job's output" in first_cut["reason"], first_cut["reason"]
    assert sum(len(t["stdout"]) for t in result["tests"]) <= 32 * 1024 * 1024
    assert_next_job_passes(supervisor)


# ---- finding 8 ---------------------------------------------------------------------------------------------
def test_cpu_of_a_child_never_waited_for_counts(supervisor):
    result = supervisor.run(cases.BUSY_CHILD_JOB)
    test = result["tests"][0]
    assert (result["verdict"], test["reason"]) == ("TLE", "cpu"), result
    assert test["cpu_ms"] > 1000, test
    assert_next_job_passes(supervisor)
    assert_clean_and_alive(supervisor)


# ---- the no-Docker fallback: disk cap, /tmp subdirectories, namespaces and mounts, seccomp ----------------
def test_the_work_dir_has_a_disk_cap(supervisor):
    source = """
chunk, total = b"x" * (16 << 20), 0
try:
    while total < (600 << 20):
        with open(f"f{total >> 24}", "wb") as f:
            f.write(chunk)
        total += len(chunk)
except OSError as exc:
    print("stopped", exc.errno)
print(total >> 20)
"""
    result = supervisor.run(python_job(source, time_limit_s=4, memory_limit_mb=1024))
    stdout = result["tests"][0]["stdout"].split()
    assert stdout[:2] == ["stopped", "28"] and int(stdout[2]) <= 256, result  # ENOSPC at the tmpfs's 256 MB
    assert_next_job_passes(supervisor)
    assert_clean_and_alive(supervisor)


def test_files_in_a_world_writable_subdirectory_of_tmp_are_gone(supervisor):
    shared = supervisor.view("/tmp/rg-world")  # a world-writable dir of someone else's, as /tmp/.X11-unix
    os.makedirs(shared, exist_ok=True)
    os.chmod(shared, 0o1777)
    wrote = supervisor.run(python_job("open('/tmp/rg-world/leak', 'w').write('x')\nprint('written')"))
    assert wrote["tests"][0]["stdout"] == "written\n", wrote
    seen = supervisor.run(python_job("import os\nprint(os.path.exists('/tmp/rg-world/leak'))"))
    assert seen["tests"][0]["stdout"] == "False\n", seen
    assert_next_job_passes(supervisor)


def test_no_user_namespace_mount_ptrace_or_keyring(supervisor):
    result = supervisor.run(python_job(cases.NAMESPACES))
    attempts = ast.literal_eval(result["tests"][0]["stdout"])
    assert attempts == dict.fromkeys(attempts, cases.EPERM), attempts
    assert supervisor.isolation["seccomp"] is True
    assert_next_job_passes(supervisor)


def test_the_sandbox_tmp_is_private_and_capped(supervisor):
    assert set(supervisor.isolation["private_tmp"]) >= {"/tmp", "/dev/shm", "/var/tmp"}
    result = supervisor.run(python_job(
        "import os\nst = os.statvfs('/tmp')\nprint(st.f_blocks * st.f_frsize >> 20, os.listdir('/tmp'))"))
    size, listing = result["tests"][0]["stdout"].split(" ", 1)
    assert int(size) == 64 and ast.literal_eval(listing) == [os.path.basename(supervisor.work_root)], result
    assert_next_job_passes(supervisor)


def test_ipc_objects_of_the_uid_are_removed_where_no_namespace_can_be_made():
    """The containers' way (no CAP_SYS_ADMIN there, so no IPC namespace per job), run here in a throwaway IPC
    namespace of its own: every object the uid created goes."""
    from rewardgym_sandboxes.supervisor.cleanup import run_as
    from rewardgym_sandboxes.supervisor.ipc import remove_ipc_of, sysv_objects
    from rewardgym_sandboxes.supervisor.isolation import enter_new_ipcns

    uid = 62999
    pid = os.fork()
    if pid == 0:  # a child in its own IPC namespace, so nothing of the host's is touched
        code = 1
        try:
            assert enter_new_ipcns()
            run_as(uid, _make_ipc_objects)
            made = sysv_objects(uid)
            left = remove_ipc_of(uid)
            code = 0 if sorted(made) == ["msg", "sem", "shm"] and not left and not sysv_objects(uid) else 2
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def _make_ipc_objects() -> None:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget(0, 1 << 20, 0o1600)  # IPC_PRIVATE
    libc.msgget(0, 0o1600)
    libc.semget(0, 1, 0o1600)
