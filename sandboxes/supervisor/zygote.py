"""The supervisor's side of the Python zygote (the program is ``zygote_program.py``; see sandboxes/README.md).

One zygote per Python job: a ``python3 -I -S`` started like any test process (new session, sandbox uid, the
job's rlimits at their largest, cleared environment, the job dir), which compiles the solution once and then
forks one child per test with ``clone(CLONE_PARENT)``: the child is ours, so ``run_limited`` supervises it
exactly as an exec'd ``python3 sol.py`` (``wait4`` rusage, wall clock, process group, output caps). A test
costs a fork instead of an interpreter start. Anything unexpected raises ``ZygoteError``; the caller kills the
zygote and runs the rest of the job the normal way.
"""

from __future__ import annotations

import array
import os
import signal
import socket
import time
from pathlib import Path

from .isolation import ChildLimits

PROGRAM = (Path(__file__).with_name("zygote_program.py")).read_text(encoding="utf-8")
REPLY_TIMEOUT_S = 5.0  # for the child's "R <pid>" (the first one includes the zygote's start and compile)


class ZygoteError(Exception):
    """The zygote did not start a test process as expected: fall back to fork + exec."""


def _limits_text(limits: ChildLimits) -> bytes:
    values = (limits.cpu_s, limits.address_space_bytes, limits.stack_bytes, limits.file_size_bytes,
              limits.open_files, limits.processes)
    return " ".join(str(-1 if v is None else int(v)) for v in values).encode()


class PythonZygote:
    def __init__(self, pid: int, pidfd: int, ctrl: socket.socket, diag_r: int):
        self.pid, self._pidfd, self._ctrl, self._diag_r = pid, pidfd, ctrl, diag_r
        self.closed = False

    @classmethod
    def start(cls, spawn, python: str) -> PythonZygote:
        """``spawn(argv, stdout_fd, stderr_fd, keep_fd) -> (pid, setup_error)`` starts a process the way a
        test process is started (``process._spawn`` with the job's isolation), keeping ``keep_fd`` open."""
        ctrl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        diag_r, diag_w = os.pipe2(os.O_CLOEXEC)
        try:
            argv = [python, "-I", "-S", "-c", PROGRAM, str(theirs.fileno())]
            pid, setup_error = spawn(argv, diag_w, diag_w, theirs.fileno())
        except BaseException:
            ctrl.close()
            os.close(diag_r)
            raise
        finally:
            theirs.close()
            os.close(diag_w)
        try:
            pidfd = os.pidfd_open(pid)
        except OSError as exc:
            setup_error = setup_error or f"pidfd_open: {exc}"
            pidfd = -1
        zygote = cls(pid, pidfd, ctrl, diag_r)
        if setup_error:
            zygote.close()
            raise ZygoteError(f"zygote setup failed: {setup_error}")
        return zygote

    def load(self, source_path: str) -> None:
        """Give the zygote its job's program (compiled once, before the first test)."""
        try:
            self._ctrl.settimeout(REPLY_TIMEOUT_S)
            self._ctrl.send(b"S " + source_path.encode())
        except OSError as exc:
            raise ZygoteError(f"zygote unreachable: {exc}") from None

    def launch(self, stdin_fd: int, out_w: int, err_w: int, limits: ChildLimits, cgroup_procs: list[str],
               timeout_s: float = REPLY_TIMEOUT_S) -> int:
        """Start one test process; returns its pid (a child of ours, released to run the program)."""
        if self.closed:
            raise ZygoteError("zygote closed")
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with mine:
            try:
                fds = [stdin_fd, out_w, err_w, theirs.fileno()]
                self._ctrl.settimeout(timeout_s)
                self._ctrl.sendmsg([_limits_text(limits)],
                                   [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())])
            except OSError as exc:
                raise ZygoteError(f"zygote unreachable: {exc}") from None
            finally:
                theirs.close()
            deadline = time.monotonic() + timeout_s
            reply = self._recv(mine, deadline)
            if not reply.startswith(b"R "):
                raise ZygoteError(f"zygote child did not start: {reply[:200]!r} {self.diagnostics()!r}")
            try:
                pid = int(reply[2:])
            except ValueError:
                raise ZygoteError(f"zygote child sent {reply[:200]!r}") from None
            self._check_child(pid)
            try:
                for path in cgroup_procs:  # the child cannot join the slot's cgroup itself (not root)
                    with open(path, "w") as f:
                        f.write(str(pid))
            except OSError as exc:  # our side closes: the child reads EOF and exits without running anything
                raise ZygoteError(f"could not move the test process into the cgroup: {exc}") from None
            try:
                mine.send(b"G")
            except OSError as exc:
                raise ZygoteError(f"zygote child gone before it started: {exc}") from None
        return pid

    @staticmethod
    def _recv(sock: socket.socket, deadline: float) -> bytes:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ZygoteError("zygote did not answer in time")
            sock.settimeout(remaining)
            try:
                return sock.recv(64)  # b"" at EOF: the zygote (or the child) died first
            except TimeoutError:
                raise ZygoteError("zygote did not answer in time") from None
            except InterruptedError:
                continue
            except OSError as exc:
                raise ZygoteError(f"zygote reply failed: {exc}") from None

    def _check_child(self, pid: int) -> None:
        """The pid must be a child of ours other than the zygote (CLONE_PARENT), so that it is a sandbox
        process and cannot be reused before we reap it: nothing else is ever signalled or waited for."""
        if pid <= 1 or pid == self.pid:
            raise ZygoteError(f"zygote reported pid {pid}")
        try:
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            raise ZygoteError(f"zygote reported pid {pid}, not a child of ours") from None

    def diagnostics(self) -> bytes:
        """What the zygote wrote to stdout/stderr (nothing, normally), non-blocking."""
        if self._diag_r < 0:
            return b""
        os.set_blocking(self._diag_r, False)
        try:
            return os.read(self._diag_r, 4096)
        except OSError:
            return b""

    def close(self) -> None:
        """Kill the zygote (its pidfd: never another process) and reap it."""
        if self.closed:
            return
        self.closed = True
        self._ctrl.close()
        if self._pidfd >= 0:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitid(os.P_PIDFD, self._pidfd, os.WEXITED)
            except ChildProcessError:  # already reaped (reap_children after a test)
                pass
            os.close(self._pidfd)
            self._pidfd = -1
        os.close(self._diag_r)
        self._diag_r = -1

