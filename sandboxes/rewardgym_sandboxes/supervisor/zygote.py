"""The supervisor's side of the Python zygote (the program is ``zygote_program.py``; see sandboxes/README.md).

One zygote per Python job: a ``python3 -I -S`` started like any test process (new session, sandbox uid, the
job's rlimits at their largest, cleared environment, the job dir), which compiles the solution once and then
forks one child per test with ``clone(CLONE_PARENT)``: the child is ours, so ``run_limited`` supervises it
exactly as an exec'd ``python3 sol.py`` (``wait4`` rusage, wall clock, process group, output caps). A test
costs a fork instead of an interpreter start. Anything unexpected raises ``ZygoteError``; the caller kills the
zygote and runs the rest of the job the normal way.

The zygote itself is forked by the ``ZygoteLauncher`` (root, started once per supervisor, see "The zygote
launcher" in sandboxes/README.md) instead of exec'd, unless the launcher fails (``LauncherError``: it is
replaced, and that job's zygote is exec'd as before).
"""

from __future__ import annotations

import array
import logging
import os
import select
import signal
import socket
import time
from pathlib import Path

from .isolation import SANDBOX_PATH, ChildLimits, launcher_setup

PROGRAM = (Path(__file__).with_name("zygote_program.py")).read_text(encoding="utf-8")
REPLY_TIMEOUT_S = 5.0  # for the child's "R <pid>" (the first one includes the zygote's start and compile)
LAUNCHER_REPLY_TIMEOUT_S = 5.0  # for the launcher's "P <pid>" (the first one includes the launcher's start)
LAUNCHER_MAX_FORKS = 256  # then a fresh launcher (fresh address-space layout and hash seed)
LAUNCHER_RETRY_S = 5.0  # after a launcher failed twice in a row, jobs use the exec'd zygote this long
LAUNCHER_ENV = {"PATH": SANDBOX_PATH, "LANG": "C.UTF-8"}  # what an exec'd zygote's startup sees (HOME, TMPDIR
# play no part in it); each forked zygote sets its job's environment itself

log = logging.getLogger("sandbox.supervisor")



def read_diagnostics(fd: int) -> bytes:
    """Up to 4 KB of what a helper process wrote to its diagnostics pipe `fd`, without blocking."""
    if fd < 0:
        return b""
    os.set_blocking(fd, False)
    try:
        return os.read(fd, 4096)
    except OSError:
        return b""

class ZygoteError(Exception):
    """The zygote did not start a test process as expected: fall back to fork + exec."""


def _limits_text(limits: ChildLimits) -> bytes:
    values = (limits.cpu_s, limits.address_space_bytes, limits.stack_bytes, limits.file_size_bytes,
              limits.open_files, limits.processes)
    return " ".join(str(-1 if v is None else int(v)) for v in values).encode()


class LauncherError(Exception):
    """The launcher did not fork a zygote as expected: restart it; this job starts its zygote by exec."""


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

    @classmethod
    def fork_from(cls, launcher: ZygoteLauncher, uid: int | None, workdir: str, limits: ChildLimits,
                  env: dict[str, str]) -> PythonZygote:
        """The same zygote, forked by the launcher instead of exec'd (raises ``LauncherError``)."""
        ctrl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        diag_r, diag_w = os.pipe2(os.O_CLOEXEC)
        stdin_fd = os.memfd_create("stdin", os.MFD_CLOEXEC)  # what an exec'd zygote gets: empty stdin
        try:
            pid = launcher.fork(uid, workdir, limits, env, [theirs.fileno(), diag_w, stdin_fd])
        except BaseException:
            ctrl.close()
            os.close(diag_r)
            raise
        finally:
            theirs.close()
            os.close(diag_w)
            os.close(stdin_fd)
        try:
            pidfd = os.pidfd_open(pid)
        except OSError as exc:
            ctrl.close()
            os.close(diag_r)
            raise LauncherError(f"pidfd_open({pid}): {exc}") from None
        return cls(pid, pidfd, ctrl, diag_r)

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
        return read_diagnostics(self._diag_r)

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



class ZygoteLauncher:
    """The zygote launcher: one ``python3 -I -S`` running ``zygote_program.py`` as a launcher, root, for the
    supervisor's lifetime (replaced after ``LAUNCHER_MAX_FORKS`` forks or any failure). It never runs a
    program nor holds anything of a job: asked for a zygote, it forks with ``clone(CLONE_PARENT)``, and the
    child drops to the sandbox uid exactly as an exec'd zygote is set up, then serves the zygote protocol."""

    def __init__(self, python: str, uid: int | None, *, seccomp_filter: bytes | None = None, ipcns: bool = False):
        self.python, self.uid = python, uid
        self.seccomp_filter, self.ipcns = seccomp_filter, ipcns  # applied by each zygote it forks
        self.pid: int | None = None
        self._pidfd = -1
        self._ctrl: socket.socket | None = None
        self._diag_r = -1
        self.starts = self.forks = self.failures = 0
        self._forks_since_start = 0
        self._retry_after = 0.0
        self._consecutive_failures = 0

    def info(self) -> dict:
        return {"pid": self.pid, "starts": self.starts, "forks": self.forks, "failures": self.failures}

    @property
    def alive(self) -> bool:
        return self._ctrl is not None and not _pidfd_ready(self._pidfd)

    def start(self) -> bool:
        """Start a launcher (returns at once: it becomes ready while the supervisor goes on)."""
        self.stop()
        if time.monotonic() < self._retry_after:
            return False
        try:
            ctrl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        except OSError as exc:
            self._retry_after = time.monotonic() + LAUNCHER_RETRY_S
            log.warning("zygote launcher not started: %s", exc)
            return False
        diag_r = diag_w = stdin_fd = -1
        argv = [self.python, "-I", "-S", "-c", PROGRAM, "launcher", str(theirs.fileno()),
                self.seccomp_filter.hex() if self.seccomp_filter else "-", "ipcns" if self.ipcns else "-"]
        try:
            diag_r, diag_w = os.pipe2(os.O_CLOEXEC)
            stdin_fd = os.memfd_create("stdin", os.MFD_CLOEXEC)
            pid = os.fork()
            if pid == 0:  # child: never returns
                try:
                    launcher_setup(stdin_fd, diag_w, theirs.fileno())
                    os.execvpe(argv[0], argv, LAUNCHER_ENV)
                finally:
                    os._exit(127)
            self.pid, self._pidfd, self._ctrl, self._diag_r = pid, os.pidfd_open(pid), ctrl, diag_r
        except OSError as exc:
            ctrl.close()
            if diag_r >= 0:
                os.close(diag_r)
            self._retry_after = time.monotonic() + LAUNCHER_RETRY_S
            log.warning("zygote launcher not started: %s", exc)
            return False
        finally:
            theirs.close()
            for fd in (diag_w, stdin_fd):
                if fd >= 0:
                    os.close(fd)
        self.starts += 1
        self._forks_since_start = 0
        return True

    def maintain(self) -> None:
        """Between jobs: replace a launcher that died or did its share of forks."""
        if self._forks_since_start >= LAUNCHER_MAX_FORKS or not self.alive:
            self.start()

    def fork(self, uid: int | None, workdir: str, limits: ChildLimits, env: dict[str, str],
             fds: list[int]) -> int:
        """Ask for a zygote; returns its pid (a child of ours, already the sandbox uid)."""
        if self._ctrl is None and not self.start():
            raise LauncherError("no launcher")
        try:
            return self._fork(uid, workdir, limits, env, fds)
        except LauncherError:
            self.failures += 1
            self._consecutive_failures += 1
            self.stop()  # a fresh one for the next job, at once the first time, then after a pause
            if self._consecutive_failures > 1:
                self._retry_after = time.monotonic() + LAUNCHER_RETRY_S
            raise

    def _fork(self, uid, workdir, limits, env, fds) -> int:
        values = [-1 if uid is None else uid, limits.cpu_s, limits.address_space_bytes, limits.stack_bytes,
                  limits.file_size_bytes, limits.open_files, limits.processes]
        fields = [b"Z"] + [str(-1 if v is None else int(v)).encode() for v in values] + [os.fsencode(workdir)]
        fields += [f"{k}={v}".encode() for k, v in env.items()]
        try:
            self._ctrl.settimeout(LAUNCHER_REPLY_TIMEOUT_S)
            self._ctrl.sendmsg([b"\0".join(fields)],
                               [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())])
            reply = self._ctrl.recv(2048)
        except OSError as exc:  # TimeoutError included
            raise LauncherError(f"launcher unreachable: {exc!r} {self.diagnostics()!r}") from None
        if not reply.startswith(b"P "):
            raise LauncherError(f"launcher answered {reply[:1000]!r} {self.diagnostics()!r}")
        try:
            pid = int(reply[2:])
        except ValueError:
            raise LauncherError(f"launcher answered {reply[:200]!r}") from None
        if pid <= 1 or pid == self.pid:
            raise LauncherError(f"launcher reported pid {pid}")
        try:  # a child of ours (CLONE_PARENT), not yet reaped: no other process can hold that pid
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            raise LauncherError(f"launcher reported pid {pid}, not a child of ours") from None
        self.forks += 1
        self._forks_since_start += 1
        self._consecutive_failures = 0
        return pid

    def diagnostics(self) -> bytes:
        """What the launcher wrote to stdout/stderr (nothing, normally), non-blocking."""
        return read_diagnostics(self._diag_r)

    def stop(self) -> None:
        """Kill the launcher (its pidfd: never another process) and reap it."""
        if self._ctrl is not None:
            self._ctrl.close()
            self._ctrl = None
        if self._pidfd >= 0:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitid(os.P_PIDFD, self._pidfd, os.WEXITED)
            except ChildProcessError:  # already reaped (reap_children)
                pass
            os.close(self._pidfd)
            self._pidfd = -1
        if self._diag_r >= 0:
            os.close(self._diag_r)
            self._diag_r = -1
        self.pid = None



def _pidfd_ready(pidfd: int) -> bool:
    """A pidfd polls readable once its process has exited."""
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return bool(poller.poll(0))
