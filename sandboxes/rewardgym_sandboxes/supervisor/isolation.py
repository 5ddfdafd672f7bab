"""What isolates a run: the slot's uid, the network namespace, the slot's cgroup, and the child-side setup
(done between fork and exec) that applies them together with the rlimits."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from dataclasses import dataclass

from . import seccomp

CLONE_NEWNET = 0x40000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"

_libc = ctypes.CDLL(None, use_errno=True)


def enter_new_netns() -> bool:
    """Move this process (and all its future children) into a fresh network namespace: loopback only, down.

    Path-bound Unix sockets are not tied to a network namespace, so the supervisor stays reachable."""
    return _libc.unshare(CLONE_NEWNET) == 0


def enter_new_ipcns() -> bool:
    """Move this process (and its future children) into a fresh IPC namespace: no SysV object or POSIX message
    queue of an earlier job is visible, and the old namespace's objects are freed with its last process."""
    return _libc.unshare(CLONE_NEWIPC) == 0


def ipcns_allowed() -> bool:
    """Whether ``unshare(CLONE_NEWIPC)`` works here (tried in a throwaway child; not in a container without
    CAP_SYS_ADMIN)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0 if enter_new_ipcns() else 1)
    return os.waitpid(pid, 0)[1] == 0


def enter_private_mounts() -> bool:
    """Enter a new mount namespace whose mounts do not propagate to the host (False where not allowed: not
    root, or in a container without CAP_SYS_ADMIN; nothing changed then)."""
    if _libc.unshare(CLONE_NEWNS) != 0:
        return False
    if _libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "mount(/, MS_REC | MS_PRIVATE) failed")  # never mount while shared
    return True


def mount_tmpfs(path: str, options: str) -> bool:
    """A fresh tmpfs on ``path`` (nosuid, nodev; ``noexec`` among the options too), e.g. ``size=64m,mode=1777``."""
    opts = options.split(",")
    flags = MS_NOSUID | MS_NODEV | (MS_NOEXEC if "noexec" in opts else 0)
    data = ",".join(o for o in opts if o != "noexec").encode()
    return os.path.isdir(path) and _libc.mount(b"tmpfs", path.encode(), b"tmpfs", flags, data) == 0


def become_subreaper() -> bool:
    """Orphans of the sandbox (double-forked daemons) are re-parented to us, so we reap them."""
    return _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


@dataclass(frozen=True)
class ChildLimits:
    """Limits applied in the child before exec."""

    cpu_s: int
    address_space_bytes: int | None
    stack_bytes: int
    file_size_bytes: int
    open_files: int
    processes: int | None
    seccomp_filter: bytes | None = None  # installed last (seccomp.py); None: no filter


class Cgroup:
    """One cgroup per slot (v2, or v1 memory+pids), nested under the supervisor's own cgroup."""

    def __init__(self, version: str, dirs: dict[str, str]):
        self.version = version
        self.dirs = dirs  # controller ("memory", "pids", or "" for v2) -> directory
        self._oom_before = 0

    @classmethod
    def create(cls, name: str) -> Cgroup | None:
        try:
            with open("/proc/self/cgroup") as f:
                lines = [line.rstrip("\n").split(":", 2) for line in f]
        except OSError:
            return None
        v1 = {ctrl: path for _, ctrls, path in lines for ctrl in ctrls.split(",") if ctrl}
        if "memory" in v1 and "pids" in v1 and os.path.isdir("/sys/fs/cgroup/memory"):
            dirs = {c: f"/sys/fs/cgroup/{c}{v1[c].rstrip('/')}/{name}" for c in ("memory", "pids")}
            return cls._make("v1", dirs)
        unified = next((path for _, ctrls, path in lines if ctrls == ""), None)
        if unified is not None and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            return cls._make_v2(f"/sys/fs/cgroup{unified.rstrip('/')}", name)
        return None

    @classmethod
    def _make(cls, version: str, dirs: dict[str, str]) -> Cgroup | None:
        try:
            for d in dirs.values():
                os.makedirs(d, exist_ok=True)
        except OSError:
            return None
        return cls(version, dirs)

    @classmethod
    def _make_v2(cls, parent: str, name: str) -> Cgroup | None:
        # v2 forbids processes in a cgroup that delegates controllers: move ourselves to a leaf first.
        try:
            leaf = os.path.join(parent, "supervisor")
            os.makedirs(leaf, exist_ok=True)
            with open(os.path.join(leaf, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
            with open(os.path.join(parent, "cgroup.subtree_control"), "w") as f:
                f.write("+memory +pids")
        except OSError:
            return None
        return cls._make("v2", {"": os.path.join(parent, name)})

    def _write(self, controller: str, file: str, value: str) -> None:
        with open(os.path.join(self.dirs[controller], file), "w") as f:
            f.write(value)

    def _read(self, controller: str, file: str) -> str:
        with open(os.path.join(self.dirs[controller], file)) as f:
            return f.read()

    def prepare(self, memory_bytes: int, pids: int) -> None:
        """Set the limits for the next run and reset its out-of-memory counter."""
        if self.version == "v1":
            self._write("memory", "memory.limit_in_bytes", str(memory_bytes))
            self._write("memory", "memory.failcnt", "0")
            self._write("pids", "pids.max", str(pids))
        else:
            self._write("", "memory.max", str(memory_bytes))
            self._write("", "pids.max", str(pids))
            try:
                self._write("", "memory.swap.max", "0")
            except OSError:
                pass
        self._oom_before = self._oom_kills()

    def _oom_kills(self) -> int:
        ctrl, file = ("memory", "memory.oom_control") if self.version == "v1" else ("", "memory.events")
        for line in self._read(ctrl, file).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def hit_memory_limit(self) -> bool:
        try:
            if self.version == "v1" and int(self._read("memory", "memory.failcnt")) > 0:
                return True
            return self._oom_kills() > self._oom_before
        except (OSError, ValueError):
            return False

    def procs_files(self) -> list[str]:
        return [os.path.join(d, "cgroup.procs") for d in self.dirs.values()]

    def pids(self) -> list[int]:
        out: list[int] = []
        for path in self.procs_files():
            try:
                with open(path) as f:
                    out.extend(int(x) for x in f.read().split())
            except OSError:
                pass
        return out

    def remove(self) -> None:
        for d in self.dirs.values():
            try:
                os.rmdir(d)
            except OSError:
                pass


class OomObserver:
    """Out-of-memory kills in the container's own memory cgroup (cgroup v1 ``memory.oom_control``, or v2
    ``memory.events``), read-only: used when the supervisor cannot make a slot cgroup (inside a container),
    so a program killed by the container's memory limit gets MLE, not RE."""

    PATHS = ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events")

    def __init__(self, path: str):
        self.path = path

    @classmethod
    def find(cls) -> OomObserver | None:
        for path in cls.PATHS:
            observer = cls(path)
            if observer.kills() is not None:
                return observer
        return None

    def kills(self) -> int | None:
        try:
            with open(self.path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            return None
        return None

    def killed_since(self, before: int | None) -> bool:
        now = self.kills()
        return now is not None and before is not None and now > before


def child_setup(
    *, uid: int | None, workdir: str, limits: ChildLimits, cgroup_procs: list[str],
    stdin_fd: int, stdout_fd: int, stderr_fd: int,
) -> None:
    """Runs in the forked child, before exec. Order matters: root-only steps (cgroup, rlimits above the
    current ones) first, then groups, gid, uid, no new privileges, then the seccomp filter."""
    os.setsid()
    for target, fd in ((0, stdin_fd), (1, stdout_fd), (2, stderr_fd)):
        os.dup2(fd, target)
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    pid = str(os.getpid())
    for path in cgroup_procs:
        with open(path, "w") as f:
            f.write(pid)
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_STACK, (limits.stack_bytes, limits.stack_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    if limits.processes is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    if limits.address_space_bytes is not None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.address_space_bytes, limits.address_space_bytes))
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if limits.seccomp_filter is not None:
        seccomp.install(limits.seccomp_filter)
    os.chdir(workdir)
    os.umask(0o077)


LAUNCHER_STACK_BYTES = 1024 * 1024 * 1024  # = protocol.MAX_MEMORY_LIMIT_MB: see launcher_setup


def launcher_setup(stdin_fd: int, stdio_fd: int, keep_fd: int) -> None:
    """Runs in the forked child before the zygote launcher's exec (root: it stays root). Stdio of the same
    kinds as an exec'd zygote's (a memfd, a pipe), signals and mask reset, its own session, every fd but
    ``keep_fd`` closed, cwd /. RLIMIT_STACK is set to the largest a job can ask for, because the kernel places
    the mmap area below the stack by the RLIMIT_STACK at exec, and glibc takes the default thread stack size
    from it at start: a forked zygote then has at least the room an exec'd one would have."""
    os.setsid()
    for target, fd in ((0, stdin_fd), (1, stdio_fd), (2, stdio_fd)):
        os.dup2(fd, target)
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    _, hard = resource.getrlimit(resource.RLIMIT_STACK)  # the hard limit stays: no CAP_SYS_RESOURCE to raise it
    soft = LAUNCHER_STACK_BYTES if hard == resource.RLIM_INFINITY else min(LAUNCHER_STACK_BYTES, hard)
    resource.setrlimit(resource.RLIMIT_STACK, (soft, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, 1 << 16)
    os.set_inheritable(keep_fd, True)
    os.chdir("/")
