"""The caller's side of the warm sandboxes: pick a free slot (across processes), run a job, retry once.

Every ``*.sock`` in a socket directory is one slot: a supervisor (``sandboxes/rewardgym_sandboxes/supervisor``) in a warm container
started by ``sandboxes/rewardgym_sandboxes/manager.py`` or by compose, or a local process of the fallback below. Any number of
processes may share one directory: a slot is taken with ``fcntl.flock`` on a lock file of its own, so one job
runs per slot at a time. Standard library only.

    pool = default_pool()                   # $REWARDGYM_SANDBOX_DIR, else local supervisors (one per core)
    result = pool.run(job, timeout_s=pool.job_timeout(job))

``run`` never raises for a sandbox fault: a slot that is dead or answers ``IE`` is recycled (its socket is
removed: the supervisor exits and its manager replaces it) and the job is retried once on another slot, then
it is ``{"verdict": "IE", "error": ...}``, which the caller reports as status ``error`` with reward ``null``,
never 0. See sandboxes/README.md for the job and result formats.
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import fcntl
import hashlib
import json
import logging
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import bwrap as bwrap_mode
from .supervisor.protocol import MAX_DEADLINE_S, ProtocolError, recv_frame, send_frame

__all__ = ["SandboxPool", "default_pool", "isolation_summary", "tests_key"]

log = logging.getLogger("rewardgym.sandbox")

SANDBOX_DIR_ENV = "REWARDGYM_SANDBOX_DIR"
TEST_KEYS = ("stdin", "time_limit_s", "wall_limit_s", "memory_limit_mb", "output_limit_bytes")
JOB_KEYS = ("language", "source", "tests", "tests_key", "stop_on_first_failure", "compile_time_limit_s", "deadline_s")
CONNECT_TIMEOUT_S = 5.0
REPLY_MARGIN_S = 1.0
"""The supervisor is told to stop the job this long before the call's own timeout, so that its answer (IE with
``"stopped": "deadline"``) arrives before the caller gives up on the slot."""
PACKAGE_SOURCE = Path(__file__).resolve().parent


def tests_key(tests: list[dict]) -> str:
    """sha256 of the tests' canonical JSON (only the fields the sandbox reads): the ``tests_key`` to send."""
    clean = [_clean_test(t) for t in tests]
    return hashlib.sha256(json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def _clean_test(test: object) -> object:
    # Expected outputs, checkers, anything but what the supervisor reads never leave the caller.
    return {k: test[k] for k in TEST_KEYS if k in test} if isinstance(test, dict) else test


def _ie(error: str, **extra) -> dict:
    return {"verdict": "IE", "error": error, **extra}


class _Anomaly(Exception):
    """The slot failed this job (dead mid-job, timed out, or an IE of its own): recycle it, retry elsewhere."""


class _Unreachable(Exception):
    """The slot could not be connected to: the job never started there."""


class _Unsendable(Exception):
    """The job cannot be sent at all (past the frame limit): the job's fault, not the slot's."""


class SandboxPool:
    """Every ``*.sock`` in ``socket_dir`` is one slot. Safe to use from many threads and processes at once."""

    def __init__(self, socket_dir: str, *, wait_for_slot_s: float = 60.0):
        self.socket_dir = os.path.abspath(socket_dir)
        self.wait_for_slot_s = wait_for_slot_s
        self._lock_dir = self._find_lock_dir()

    # ---- the contract ----------------------------------------------------------------------------------
    def run(self, job: dict, timeout_s: float) -> dict:
        """Run ``job`` (see sandboxes/README.md) on a free slot and return the supervisor's result.

        Blocks until a slot is free and the job is done, at most ``timeout_s`` in all (choose it with
        ``job_timeout``). Keys of the tests other than the limits and stdin (expected outputs...) are dropped
        before sending. When the job has tests, they are sent once per slot and cached there under
        ``tests_key`` (computed with ``tests_key()`` when absent). The job carries ``deadline_s``, what is left
        of ``timeout_s`` (less ``REPLY_MARGIN_S``): the supervisor stops it there (IE with ``"stopped":
        "deadline"``: returned as is, the slot is fine) and, should this process die, as soon as it hangs up.
        A slot that dies mid-job, times out or answers ``IE`` is recycled and the job retried once on another
        slot; then the result is ``{"verdict": "IE", "error": ...}``. An invalid job is ``IE`` at once
        (``error`` starts with ``"invalid job"``). Never raises for sandbox faults. The result carries
        ``"attempts"``."""
        try:
            job = self._prepare(job)
        except (TypeError, ValueError) as exc:
            return _ie(f"invalid job: {exc}", attempts=0)
        deadline = time.monotonic() + timeout_s
        errors: list[str] = []
        avoid: set[str] = set()
        attempts = 0
        while True:
            slot = self._acquire(avoid, min(deadline, time.monotonic() + self.wait_for_slot_s))
            if slot is None:
                return _ie("no sandbox slot available in " + self.socket_dir + (f" ({'; '.join(errors)})"
                           if errors else ""), attempts=attempts)
            path, lock_fd = slot
            try:
                attempts += 1
                result = self._attempt(path, job, deadline)
                result["attempts"] = attempts
                return result
            except _Unsendable as exc:
                return _ie(f"invalid job: {exc}", attempts=attempts - 1)
            except _Unreachable as exc:  # never started: does not use up the retry
                attempts -= 1
                errors.append(str(exc))
                avoid.add(path)
            except _Anomaly as exc:
                errors.append(str(exc))
                log.warning("sandbox slot %s failed a job (%s): recycling it", path, exc)
                avoid.add(path)
                if attempts >= 2 or time.monotonic() >= deadline:
                    return _ie("; ".join(errors), attempts=attempts)
            finally:
                os.close(lock_fd)

    @staticmethod
    def job_timeout(job: dict, margin_s: float = 10.0) -> float:
        """A ``timeout_s`` that a healthy slot always meets: compile + every test's wall limit + margin,
        for up to two attempts."""
        walls = 0.0
        for test in job.get("tests") or [{}]:
            t = test.get("time_limit_s", 2.0) if isinstance(test, dict) else 2.0
            walls += test.get("wall_limit_s", 2 * t) if isinstance(test, dict) else 2 * t
        one = job.get("compile_time_limit_s", 10.0) + walls + margin_s
        return 2 * one

    def slots(self) -> list[str]:
        try:
            names = sorted(n for n in os.listdir(self.socket_dir) if n.endswith(".sock"))
        except OSError:
            return []
        return [os.path.join(self.socket_dir, n) for n in names]

    def info(self) -> list[dict]:
        """``{"op": "info"}`` of every slot that answers (for logs and tests; does not take the slot)."""
        out = []
        for path in self.slots():
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(CONNECT_TIMEOUT_S)
                    sock.connect(path)
                    send_frame(sock, {"op": "info"})
                    reply = recv_frame(sock)
                if reply:
                    out.append(reply | {"socket": path})
            except (OSError, ProtocolError):
                continue
        return out

    # ---- internals -------------------------------------------------------------------------------------
    def _prepare(self, job: dict) -> dict:
        if not isinstance(job, dict):
            raise TypeError(f"Expected the job to be a dict, got {type(job).__name__}")
        clean = {k: job[k] for k in JOB_KEYS if k in job}
        if isinstance(clean.get("tests"), list):
            clean["tests"] = [_clean_test(t) for t in clean["tests"]]
            clean.setdefault("tests_key", tests_key(clean["tests"]))
        return clean

    def _find_lock_dir(self) -> str:
        lock_dir = os.path.join(self.socket_dir, ".locks")
        try:
            os.makedirs(lock_dir, mode=0o700, exist_ok=True)
            if os.access(lock_dir, os.W_OK):
                return lock_dir
        except OSError:
            pass
        digest = hashlib.sha256(self.socket_dir.encode()).hexdigest()[:16]
        lock_dir = os.path.join(tempfile.gettempdir(), f"rewardgym-pool-locks-{os.geteuid()}-{digest}")
        os.makedirs(lock_dir, mode=0o700, exist_ok=True)
        return lock_dir

    def _acquire(self, avoid: set[str], deadline: float) -> tuple[str, int] | None:
        """A free slot, locked for us: try each slot without blocking (slots that failed this job last),
        poll with a short backoff when all are busy or none exists yet."""
        pause = 0.0005
        while True:
            slots = self.slots()
            for path in [p for p in slots if p not in avoid] + [p for p in slots if p in avoid]:
                fd = os.open(os.path.join(self._lock_dir, os.path.basename(path) + ".lock"),
                             os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                if os.path.exists(path):  # still there now that it is ours
                    return path, fd
                os.close(fd)
            if time.monotonic() >= deadline:
                return None
            time.sleep(pause * (1 + random.random()))
            pause = min(pause * 2, 0.02 if slots else 0.2)

    def _attempt(self, path: str, job: dict, deadline: float) -> dict:
        try:
            st = os.stat(path)
            ident = (st.st_dev, st.st_ino)
        except OSError as exc:
            raise _Unreachable(f"{path}: {exc.strerror}") from exc
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(CONNECT_TIMEOUT_S)
            try:
                sock.connect(path)
            except OSError as exc:
                if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
                    self._recycle(path, ident)  # nobody listens: a dead container's socket
                raise _Unreachable(f"{os.path.basename(path)}: connect: {exc}") from exc
            first = job
            if "tests_key" in job and "tests" in job:  # the slot may know these tests already
                first = {k: v for k, v in job.items() if k != "tests"}
            result = self._exchange(sock, path, ident, first, deadline)
            if result.get("verdict") == "IE" and result.get("error") == "tests_missing" and first is not job:
                result = self._exchange(sock, path, ident, job, deadline)
            stopped = "stopped" in result  # the supervisor stopped it at its deadline: a healthy slot
            if (result.get("verdict") == "IE" and not stopped
                    and not str(result.get("error", "")).startswith("invalid job")):
                self._recycle(path, ident)
                error = result.get("error") or next((t.get("error") for t in result.get("tests") or []
                                                     if isinstance(t, dict) and t.get("error")), "IE")
                raise _Anomaly(f"{os.path.basename(path)}: {error}")
            return result
        finally:
            sock.close()

    def _exchange(self, sock, path, ident, message, deadline) -> dict:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Anomaly("timed out before the job was sent")
        if message.get("op") != "info":
            budget = min(remaining - min(REPLY_MARGIN_S, remaining / 2), MAX_DEADLINE_S)
            message = message | {"deadline_s": max(0.001, min(budget, message.get("deadline_s") or budget))}
        sock.settimeout(remaining)
        try:
            send_frame(sock, message)
        except ProtocolError as exc:  # raised before a byte was sent: the connection is still clean
            raise _Unsendable(str(exc)) from exc
        except OSError as exc:
            self._recycle(path, ident)
            raise _Anomaly(f"{os.path.basename(path)}: {type(exc).__name__}: {exc}") from exc
        try:
            reply = recv_frame(sock)
        except (OSError, ProtocolError) as exc:  # socket.timeout is an OSError
            self._recycle(path, ident)
            what = "timed out" if isinstance(exc, socket.timeout) else f"{type(exc).__name__}: {exc}"
            raise _Anomaly(f"{os.path.basename(path)}: {what}") from exc
        if reply is None:
            self._recycle(path, ident)
            raise _Anomaly(f"{os.path.basename(path)}: closed without a reply (the sandbox died)")
        return reply

    @staticmethod
    def _recycle(path: str, ident: tuple[int, int]) -> None:
        """Remove the slot's socket (if it is still the one we used): its supervisor exits when idle and the
        manager (or compose, or the local fallback) starts a fresh sandbox in its place."""
        try:
            st = os.stat(path)
            if (st.st_dev, st.st_ino) == ident:
                os.unlink(path)
        except OSError:
            pass


def install_private_supervisor(directory: str) -> list[str]:
    """Copy the supervisor (standard library only) into ``directory`` and return the command that runs it from
    there; run it with ``cwd=directory``. A private copy, as in the container image: the sandbox uid can neither
    read nor change the supervisor's source when ``directory`` is mode 0700."""
    package = os.path.join(directory, "rewardgym_sandboxes")
    os.makedirs(package, mode=0o700, exist_ok=True)
    shutil.copy(PACKAGE_SOURCE / "__init__.py", package)
    shutil.copytree(PACKAGE_SOURCE / "supervisor", os.path.join(package, "supervisor"), dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    # `-m` imports from the working directory; -E -s keep the environment and the user site off the path.
    return [sys.executable, "-E", "-s", "-B", "-m", "rewardgym_sandboxes.supervisor"]


# ---- the local fallback: supervisors as local processes ------------------------------------------------
_UID_LOCK_DIR = "/run/rewardgym-sandbox-uids"
_LOCAL_SLOT_RANGE = range(2000, 3000)  # sandbox uid 61000 + slot


class LocalSupervisors:
    """One supervisor per core as local processes (no Docker): rlimits, a separate uid per slot when root,
    a network namespace when ``unshare`` allows; with ``bwrap=True`` each inside bubblewrap (``bwrap.py``: no
    host file but the toolchains, own pid namespace). Restarts supervisors that exit (recycled or dead); they
    exit by themselves when this process does (``--watch-pid``, or bwrap's ``--die-with-parent``: every start
    happens on the watch thread, which lives as long as the pool)."""

    def __init__(self, slots: int | None = None, *, max_jobs: int = 500, bwrap: bool = False):
        self.count = slots or os.cpu_count() or 1
        self.max_jobs = max_jobs
        self.bwrap = bwrap
        self.owner_pid = os.getpid()
        self.private = tempfile.mkdtemp(prefix="rewardgym-sandbox-")
        os.chmod(self.private, 0o700)
        self.socket_dir = os.path.join(self.private, "sockets")
        os.mkdir(self.socket_dir, 0o700)
        self.command = install_private_supervisor(self.private)
        self.root = os.geteuid() == 0
        if bwrap:
            self.command = bwrap_mode.supervisor_command(self.private, self.socket_dir, root=self.root)
        self._uid_locks: list[int] = []
        self.slot_numbers = self._claim_slots() if self.root else list(range(self.count))
        self.processes: list[subprocess.Popen | None] = [None] * self.count
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="sandbox-local-watch", daemon=True)
        self._thread.start()
        self._wait_ready(30)

    def _claim_slots(self) -> list[int]:
        """Slot numbers (hence uids) no other local pool on this host uses: each held by a flock for our life."""
        os.makedirs(_UID_LOCK_DIR, mode=0o700, exist_ok=True)
        slots = []
        for slot in _LOCAL_SLOT_RANGE:
            fd = os.open(f"{_UID_LOCK_DIR}/{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self._uid_locks.append(fd)
            slots.append(slot)
            if len(slots) == self.count:
                return slots
        raise RuntimeError(f"Expected {self.count} free sandbox slots in {_LOCAL_SLOT_RANGE}, got {len(slots)}")

    def _start(self, i: int) -> None:
        slot = self.slot_numbers[i]
        tmp = bwrap_mode.SANDBOX_TMP if self.bwrap else tempfile.gettempdir()
        cmd = [*self.command, "--socket", os.path.join(self.socket_dir, f"slot-{i}.sock"),
               "--slot", str(slot), "--work-root", os.path.join(tmp, f"rewardgym-sandbox-{slot}"),
               "--max-jobs", str(self.max_jobs), "--log-level", "WARNING"]
        if not self.bwrap:  # under bwrap the owner's pid is not in the supervisor's pid namespace
            cmd += ["--watch-pid", str(self.owner_pid)]
        self.processes[i] = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, cwd=self.private,
                                             env={"PATH": os.environ.get("PATH", "")})

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while len(SandboxPool(self.socket_dir).slots()) < self.count and time.monotonic() < deadline:
            time.sleep(0.02)

    def _watch(self) -> None:
        while True:
            for i, proc in enumerate(self.processes):
                if (proc is None or proc.poll() is not None) and not self._stop.is_set():
                    self._start(i)
            if self._stop.wait(0.2):
                return

    def stop(self) -> None:
        if os.getpid() != self.owner_pid:  # a forked child shares the slots, it does not own them
            return
        self._stop.set()
        self._thread.join(10)
        for proc in self.processes:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            if proc is not None:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for fd in self._uid_locks:
            os.close(fd)
        shutil.rmtree(self.private, ignore_errors=True)


class RefusedPool(SandboxPool):
    """No isolation available and no ``--unsafe-sandbox``: every job is ``IE`` with the reason and how to
    enable isolation (the code environments answer status error, reward null). Nothing runs."""

    def __init__(self, message: str):
        self.message = message
        self.socket_dir = ""
        self.wait_for_slot_s = 0.0

    def run(self, job: dict, timeout_s: float) -> dict:
        return _ie(self.message, attempts=0)

    def slots(self) -> list[str]:
        return []


_default: SandboxPool | None = None
_local: LocalSupervisors | None = None
_default_lock = threading.Lock()


def local_mode() -> tuple[str, str]:
    """How the local fallback runs programs: ``("bwrap", "")``, ``("unsafe", "")`` (bwrap unusable and the
    operator passed ``--unsafe-sandbox``) or ``("refused", message)``. A worker decides once
    (``provision_sandboxes``) and its scoring processes inherit the decision through the environment."""
    decided = os.environ.get(bwrap_mode.MODE_ENV)
    if decided in ("bwrap", "unsafe"):
        return decided, ""
    if decided == "refused":
        return "refused", os.environ.get(bwrap_mode.REFUSAL_ENV) or bwrap_mode.refusal_message("refused")
    probe = bwrap_mode.probe()
    if probe.ok:
        return "bwrap", ""
    if bwrap_mode.unsafe_allowed():
        log.warning("sandbox: UNSAFE: %s; --unsafe-sandbox given: model-written code runs WITHOUT isolation "
                    "from the host's files", probe.reason)
        return "unsafe", ""
    return "refused", bwrap_mode.refusal_message(probe.reason)


def default_pool() -> SandboxPool:
    """The process-wide pool: ``$REWARDGYM_SANDBOX_DIR`` when set (warm containers of ``rewardgym_sandboxes.manager``
    or compose), else local supervisors, one per core, under bwrap (``local_mode``), started on first use and
    stopped at exit; a ``RefusedPool`` when there is no isolation and no ``--unsafe-sandbox``. A process forked
    after the first call shares the same slots."""
    global _default, _local
    with _default_lock:
        if _default is None:
            sandbox_dir = os.environ.get(SANDBOX_DIR_ENV)
            mode, message = ("containers", "") if sandbox_dir else local_mode()
            if sandbox_dir:
                _default = SandboxPool(sandbox_dir)
            elif mode == "refused":
                log.error("%s", message)
                _default = RefusedPool(message)
            else:
                _local = LocalSupervisors(bwrap=mode == "bwrap")
                atexit.register(_local.stop)
                _default = SandboxPool(_local.socket_dir)
        return _default


def _netns_allowed() -> bool:
    """Whether unshare(CLONE_NEWNET) works here (tried in a throwaway child)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0 if ctypes.CDLL(None, use_errno=True).unshare(0x40000000) == 0 else 1)
    return os.waitpid(pid, 0)[1] == 0


def isolation_summary() -> str:
    """One line saying which isolation is in force, for ``rewardgym serve`` to log once. Starts nothing."""
    sandbox_dir = os.environ.get(SANDBOX_DIR_ENV)
    netns = None
    if sandbox_dir:
        infos = SandboxPool(sandbox_dir).info()
        if not infos:
            return f"sandbox: containers via {sandbox_dir} (no slot answering yet)"
        iso = infos[0].get("isolation", {})
        nets = ",".join(iso.get("interfaces") or []) or "?"
        return (f"sandbox: {len(infos)} warm container slot(s) in {sandbox_dir}: uid {iso.get('uid')}, "
                f"interfaces {nets}, no_new_privs {iso.get('no_new_privs')}")
    mode, message = local_mode() if _local is None else ("bwrap" if _local.bwrap else "unsafe", "")
    if mode == "refused":
        return message
    if mode == "bwrap":
        return ("sandbox: bwrap (no Docker), one supervisor per core, each in its own mount namespace (only the "
                "toolchains, read-only; private /tmp), pid, network and IPC namespace; "
                + ("separate uid per slot, cgroup, rlimits" if os.geteuid() == 0
                   else f"programs run as uid {os.geteuid()} in a user namespace, rlimits"))
    if _local is not None:
        root = _local.root
        infos = SandboxPool(_local.socket_dir).info()
        if infos:
            netns = infos[0].get("isolation", {}).get("netns")
    else:
        root = os.geteuid() == 0
    netns = _netns_allowed() if netns is None else netns
    unsafe = "UNSAFE (--unsafe-sandbox, no bwrap): programs can read the host's files; "
    if root:
        return (unsafe + "sandbox: local processes (no Docker), one per core: separate uid per slot, "
                + ("own network namespace" if netns else "NO network namespace (unshare refused)")
                + ", cgroup when writable, rlimits")
    return (unsafe + "sandbox: local processes (no Docker) WITHOUT uid isolation (not root): untrusted code runs as "
            f"uid {os.geteuid()} with rlimits only" + (", own network namespace" if netns else ", host network"))
