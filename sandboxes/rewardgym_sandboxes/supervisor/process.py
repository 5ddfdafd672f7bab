"""Run one limited process: fork, set up the child (``isolation.child_setup``), exec, capture its output
through capped pipes, enforce the wall clock, kill its process group, and report what happened."""

from __future__ import annotations

import os
import selectors
import signal
import time
import traceback
from dataclasses import dataclass

from .isolation import SANDBOX_PATH, ChildLimits, child_setup

READ_CHUNK = 65536
STDERR_TAIL_BYTES = 2048


@dataclass
class RunOutcome:
    exit_code: int | None = None
    signal: int | None = None
    cpu_ms: int = 0
    wall_ms: int = 0
    memory_kb: int = 0
    stdout: bytes = b""
    stdout_truncated: bool = False
    stderr_head: bytes = b""
    stderr_tail: bytes = b""
    killed_for: str | None = None  # "wall" | "output" | "memory" | "stopped" (see control.py) | None
    setup_error: str | None = None


class _Capture:
    """Keeps the first ``cap`` bytes of a stream; for stderr also a tail window."""

    def __init__(self, cap: int, tail: int = 0):
        self.cap, self.tail_size = cap, tail
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.cap - len(self.head)
        if room > 0:
            self.head += data[:room]
        if self.tail_size:
            self.tail = (self.tail + data)[-self.tail_size:]


def _memfd_with(data: bytes) -> int:
    fd = os.memfd_create("stdin", os.MFD_CLOEXEC)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def sandbox_env(workdir: str) -> dict[str, str]:
    return {"PATH": SANDBOX_PATH, "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8"}


def _spawn(argv, stdin, uid, workdir, limits, cgroup_procs, env, out_w, err_w, keep_fd=None):
    """Fork and exec; returns (pid, setup_error or None). ``keep_fd`` stays open (inheritable) across exec."""
    stdin_fd = _memfd_with(stdin)
    report_r, report_w = os.pipe2(os.O_CLOEXEC)
    try:
        pid = os.fork()
        if pid == 0:  # child: never returns
            try:
                child_setup(uid=uid, workdir=workdir, limits=limits, cgroup_procs=cgroup_procs,
                            stdin_fd=stdin_fd, stdout_fd=out_w, stderr_fd=err_w)
                low = 3
                for keep in sorted({report_w} | ({keep_fd} if keep_fd is not None else set())):
                    os.closerange(low, keep)
                    low = keep + 1
                os.closerange(low, limits.open_files + 64)
                if keep_fd is not None:
                    os.set_inheritable(keep_fd, True)
                os.execvpe(argv[0], argv, env)
            except BaseException:
                try:
                    os.write(report_w, traceback.format_exc().encode()[-2000:])
                finally:
                    os._exit(127)
        os.close(report_w)
        report = b""
        while chunk := os.read(report_r, 4096):  # EOF at exec (CLOEXEC) or at _exit
            report += chunk
        return pid, (report.decode(errors="replace") or None)
    finally:
        os.close(report_r)
        os.close(stdin_fd)


def spawner(*, uid: int | None, workdir: str, limits: ChildLimits):
    """``spawn(argv, stdout_fd, stderr_fd, keep_fd)`` with the isolation of a test process (no cgroup, empty
    stdin): how the Python zygote is started."""
    def spawn(argv, out_w, err_w, keep_fd):
        return _spawn(argv, b"", uid, workdir, limits, [], sandbox_env(workdir), out_w, err_w, keep_fd)
    return spawn


def _launch_in_zygote(zygote, stdin: bytes, limits: ChildLimits, cgroup_procs, out_w, err_w) -> int:
    stdin_fd = _memfd_with(stdin)
    try:
        return zygote.launch(stdin_fd, out_w, err_w, limits, cgroup_procs)
    finally:
        os.close(stdin_fd)


def run_limited(
    argv: list[str], *, stdin: bytes, uid: int | None, workdir: str, limits: ChildLimits,
    wall_s: float, stdout_cap: int, stderr_cap: int, cgroup_procs: list[str],
    kill_on_stderr_cap: bool = False, rss_limit_bytes: int | None = None, zygote=None, control=None,
) -> RunOutcome:
    """Run ``argv``, or with ``zygote`` (a ``zygote.PythonZygote``) the zygote's program in a forked child
    (``argv`` unused). The zygote path raises ``ZygoteError`` when no test process could be started; then
    nothing of the program has run. ``control`` (a ``control.JobControl``): the run is killed when the job's
    deadline passes or its caller hangs up (``killed_for == "stopped"``)."""
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    outcome = RunOutcome()
    start = time.monotonic()
    try:
        if zygote is not None:
            pid = _launch_in_zygote(zygote, stdin, limits, cgroup_procs, out_w, err_w)
        else:
            pid, outcome.setup_error = _spawn(argv, stdin, uid, workdir, limits, cgroup_procs,
                                              sandbox_env(workdir), out_w, err_w)
    except BaseException:
        os.close(out_r)
        os.close(err_r)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    out, err = _Capture(stdout_cap), _Capture(stderr_cap, STDERR_TAIL_BYTES)
    try:
        status, rusage = _supervise(pid, start + wall_s, out_r, err_r, out, err, outcome, kill_on_stderr_cap,
                                    rss_limit_bytes, control)
    finally:
        _kill_group(pid)
        os.close(out_r)
        os.close(err_r)
    outcome.wall_ms = int((time.monotonic() - start) * 1000)
    outcome.cpu_ms = int((rusage.ru_utime + rusage.ru_stime) * 1000)
    outcome.memory_kb = rusage.ru_maxrss
    if os.WIFSIGNALED(status):
        outcome.signal = os.WTERMSIG(status)
    else:
        outcome.exit_code = os.WEXITSTATUS(status)
    outcome.stdout, outcome.stdout_truncated = bytes(out.head), out.total > stdout_cap
    outcome.stderr_head, outcome.stderr_tail = bytes(err.head), bytes(err.tail)
    return outcome


def _drain(fd: int, capture: _Capture, limit: int) -> bool:
    """Read what is available; False at EOF."""
    while True:
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return True
        if not data:
            return False
        capture.add(data)
        if capture.total > limit:
            return True


RSS_POLL_S = 0.01
PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


_PIDFD, _CONTROL = "pidfd", "control"


def _supervise(pid, deadline, out_r, err_r, out, err, outcome, kill_on_stderr_cap, rss_limit=None, control=None):
    """``rss_limit``: poll the process's resident memory (every 10 ms) and kill it past the limit: the memory
    limit of a runtime without RLIMIT_AS (node) where no slot cgroup can be made (inside a container)."""
    pidfd = os.pidfd_open(pid)
    os.set_blocking(out_r, False)
    os.set_blocking(err_r, False)
    sel = selectors.DefaultSelector()
    sel.register(out_r, selectors.EVENT_READ, out)
    sel.register(err_r, selectors.EVENT_READ, err)
    sel.register(pidfd, selectors.EVENT_READ, _PIDFD)
    if control is not None:
        deadline = control.clamp(deadline)
        if control.fd is not None:
            sel.register(control.fd, selectors.EVENT_READ, _CONTROL)
    try:
        exited = False
        while not exited:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                stopped = control is not None and control.poll() is not None
                outcome.killed_for = outcome.killed_for or ("stopped" if stopped else "wall")
                break
            if rss_limit is not None:
                if _rss_bytes(pid) > rss_limit:
                    outcome.killed_for = "memory"
                    break
                remaining = min(remaining, RSS_POLL_S)
            for key, _ in sel.select(remaining):
                if key.data is _PIDFD:
                    exited = True
                    continue
                if key.data is _CONTROL:
                    if control.poll() is not None:
                        outcome.killed_for = outcome.killed_for or "stopped"
                        exited = True
                    elif control.fd is None:  # the caller sent bytes: no longer watched
                        sel.unregister(key.fd)
                    continue
                cap = out.cap if key.data is out else err.cap
                if not _drain(key.fd, key.data, cap):
                    sel.unregister(key.fd)
                if out.total > out.cap or (kill_on_stderr_cap and err.total > err.cap):
                    outcome.killed_for = "output"
                    exited = True
        _kill_group(pid)
        _, status, rusage = _wait4(pid)
        # The process is gone; whatever it wrote is already in the pipes (escaped children are not waited for).
        for fd, capture in ((out_r, out), (err_r, err)):
            if capture.total <= capture.cap:
                _drain(fd, capture, capture.cap)
        if out.total > out.cap and outcome.killed_for is None:
            outcome.killed_for = "output"
        return status, rusage
    finally:
        sel.close()
        os.close(pidfd)


def _wait4(pid: int):
    while True:
        try:
            return os.wait4(pid, 0)
        except InterruptedError:
            continue
