"""The supervisor: serves jobs over a Unix socket, one at a time, and turns runs into verdicts."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import select
import signal
import socket
import time
from dataclasses import dataclass

from . import __version__
from .cleanup import kill_uid, reap_children, remove_tree, wipe_shared_dirs
from .control import JobControl, JobStopped
from .ipc import remove_ipc_of
from .isolation import Cgroup, ChildLimits, OomObserver, enter_new_ipcns
from .languages import LANGUAGES, Language, run_command
from .process import RunOutcome, run_limited, sandbox_env, spawner
from .protocol import (
    JOB_OUTPUT_LIMIT_BYTES, STDERR_HEAD_BYTES, JobSpec, ProtocolError, TestsCache, TestSpec, parse_job, recv_frame,
    resolve_tests, send_frame,
)
from .tree import kill_tree
from .verdicts import classify
from .zygote import LauncherError, PythonZygote, ZygoteError, ZygoteLauncher

log = logging.getLogger("sandbox.supervisor")

MB = 1024 * 1024
FILE_SIZE_LIMIT_BYTES = 64 * MB
OPEN_FILES_LIMIT = 256
PROCESS_LIMIT = 64  # processes + threads of the slot uid (RLIMIT_NPROC) and of the slot cgroup (pids.max)
CGROUP_SLACK_MB = 64  # cgroup limit above RLIMIT_AS, as a backstop, for rlimit_as languages
COMPILE_MEMORY_MB = 2048
COMPILE_OUTPUT_CAP = 64 * 1024
COMPILE_MESSAGE_BYTES = 4096
ZYGOTE_CPU_S = 60  # the zygote's own RLIMIT_CPU (its children lower theirs to the test's)


@dataclass(frozen=True)
class SupervisorConfig:
    socket: SocketName
    work_root: str
    uid: int | None  # None: not root, runs as ourselves (no uid isolation, no RLIMIT_NPROC)
    netns: bool
    cgroup: Cgroup | None
    source_private: bool
    max_jobs: int | None = None  # exit after this many jobs (the container is then replaced)
    watch_pid: int | None = None  # exit when this process exits (the local fallback's owner)
    oom: OomObserver | None = None  # the container's own memory cgroup, read-only, when we have no slot cgroup
    interfaces: tuple[str, ...] = ()  # network interfaces the programs see (only "lo" is expected)
    python_zygote: bool = True  # Python tests fork from one interpreter per job (zygote.py) instead of exec
    zygote_launcher: bool = True  # that interpreter is forked by the root zygote launcher (else exec'd per job)
    ipcns: bool = False  # each job in a fresh IPC namespace (root outside a container); else its objects removed
    private_dirs: frozenset[str] = frozenset()  # shared dirs that are this supervisor's own tmpfs (emptied per job)
    seccomp_filter: bytes | None = None  # installed in every sandbox process (seccomp.py)


class Supervisor:
    def __init__(self, config: SupervisorConfig):
        self.config = config
        self.jobs = 0
        self.tests_cache = TestsCache()
        self.stopping: str | None = None  # why serve_forever returns
        self._zygote: PythonZygote | None = None  # the current job's, while it is usable
        self._control = JobControl(None, None)  # the current job's
        self._launcher: ZygoteLauncher | None = None
        if config.python_zygote and config.zygote_launcher:
            self._launcher = ZygoteLauncher(LANGUAGES["python"].run[0], config.uid,
                                            seccomp_filter=config.seccomp_filter, ipcns=config.ipcns)
        self.isolation = {
            "uid": config.uid,
            "netns": config.netns,
            "cgroup": config.cgroup.version if config.cgroup else None,
            "no_new_privs": True,
            "source_private": config.source_private,
            "interfaces": list(config.interfaces),
            "ipcns": config.ipcns,
            "seccomp": config.seccomp_filter is not None,
            "private_tmp": sorted(config.private_dirs),
        }
        self._output_left = JOB_OUTPUT_LIMIT_BYTES  # of the current job (protocol.JOB_OUTPUT_LIMIT_BYTES)

    # ---- serving -------------------------------------------------------------------------------------
    def serve_forever(self, listener: socket.socket) -> str:
        """Serve connections until a reason to stop: ``max_jobs`` reached, the socket path unlinked or
        replaced (the pool's way of asking for a fresh sandbox), or the watched process gone."""
        ident = self.config.socket.ident()
        pidfd = os.pidfd_open(self.config.watch_pid) if self.config.watch_pid else None
        if self._launcher is not None:
            self._launcher.start()
        try:
            while self.stopping is None:
                ready, _, _ = select.select([listener] + ([pidfd] if pidfd is not None else []), [], [], 1.0)
                if pidfd is not None and pidfd in ready:
                    self.stopping = f"process {self.config.watch_pid} exited"
                elif listener in ready:
                    conn, _ = listener.accept()
                    with conn:
                        try:
                            self._serve_connection(conn)
                        except Exception:  # the server stays up; the caller sees a closed connection (IE)
                            log.exception("connection failed")
                if self.stopping is None and self.config.socket.ident() != ident:
                    self.stopping = "socket path removed"
        finally:
            if pidfd is not None:
                os.close(pidfd)
            if self._launcher is not None:
                self._launcher.stop()
        log.info("stopping: %s", self.stopping)
        return self.stopping

    def _serve_connection(self, conn: socket.socket) -> None:
        while True:
            try:
                message = recv_frame(conn)
            except ProtocolError as exc:
                self._reply(conn, {"verdict": "IE", "error": f"protocol: {exc}"})
                return
            except OSError:
                return
            if message is None:
                return
            if message.get("op") == "info":
                reply = {"version": __version__, "languages": sorted(LANGUAGES), "isolation": self.isolation,
                         "jobs": self.jobs, "max_jobs": self.config.max_jobs,
                         "python_zygote": self.config.python_zygote,
                         "zygote_launcher": self._launcher.info() if self._launcher is not None else None}
            else:
                reply = self.handle_job(message, conn)
                if self.config.max_jobs and self.jobs >= self.config.max_jobs:
                    # Out of the way before replying: the next caller finds no socket (not a dead one).
                    self.stopping = f"{self.jobs} jobs done"
                    self.config.socket.unlink_if(self.config.socket.ident())
                if reply.get("stopped") == "caller hung up":  # nobody to answer: free the slot now
                    return
            if not self._reply(conn, reply) or self.stopping:
                return

    @staticmethod
    def _reply(conn: socket.socket, reply: dict) -> bool:
        try:
            try:
                send_frame(conn, reply)
            except ProtocolError as exc:  # a reply past the frame limit: a fault of ours, said as one
                send_frame(conn, {"verdict": "IE", "error": f"supervisor: {exc}"})
            return True
        except OSError:
            return False

    # ---- one job -------------------------------------------------------------------------------------
    def handle_job(self, message: dict, conn: socket.socket | None = None) -> dict:
        """Run one job; ``conn`` is the caller's connection, watched for a hang-up while the job runs."""
        start = time.monotonic()
        try:
            resolved = resolve_tests(message, self.tests_cache)
            if resolved is None:  # the caller resends with the tests (not a job: not counted)
                return {"verdict": "IE", "error": "tests_missing", "isolation": self.isolation}
            job = parse_job(resolved, set(LANGUAGES))
        except ProtocolError as exc:
            return {"verdict": "IE", "error": f"invalid job: {exc}", "isolation": self.isolation}
        self.jobs += 1
        workdir = os.path.join(self.config.work_root, f"job-{self.jobs}")
        control = JobControl(conn, None if job.deadline_s is None else start + job.deadline_s)
        if self.config.ipcns and not enter_new_ipcns():  # this job's programs: no IPC object of an earlier one
            log.warning("unshare(CLONE_NEWIPC) failed; the job's IPC objects are removed after it instead")
        try:
            result = self._run_job(job, workdir, control)
        except JobStopped as exc:
            log.warning("job %d stopped: %s", self.jobs, exc.reason)
            result = {"verdict": "IE", "error": f"stopped: {exc.reason}", "stopped": exc.reason}
        except Exception as exc:  # a sandbox fault is never the program's fault
            log.exception("job failed inside the supervisor")
            result = {"verdict": "IE", "error": f"supervisor: {type(exc).__name__}: {exc}"}
        try:
            survivors = self._clean_up(workdir)
        except Exception as exc:
            log.exception("cleaning up after a job failed")
            survivors = [f"cleanup failed: {type(exc).__name__}: {exc}"]
        if survivors:
            result = {"verdict": "IE", "error": f"could not clean up the sandbox: {survivors}"}
        if self._launcher is not None:
            try:
                self._launcher.maintain()
            except Exception:  # the next job starts its zygote by exec (and tries the launcher again)
                log.exception("replacing the zygote launcher failed")
        result["isolation"] = self.isolation
        result["elapsed_ms"] = int((time.monotonic() - start) * 1000)
        return result

    def _zygote_for(self, job: JobSpec) -> bool:
        # A NUL byte: the interpreter's file reader has its own quirks there, which compile() does not mimic.
        return (LANGUAGES[job.language].zygote and self.config.python_zygote and bool(job.tests)
                and "\0" not in job.source)

    def _run_job(self, job: JobSpec, workdir: str, control: JobControl) -> dict:
        language = LANGUAGES[job.language]
        self._control, self._output_left = control, JOB_OUTPUT_LIMIT_BYTES
        self._make_workdir(workdir, language, job.source)
        compiled = None
        if language.compile is not None:
            control.check()
            compiled = self._compile(language, workdir, job.compile_time_limit_s)
            if compiled["verdict"] != "OK":
                return {"verdict": compiled["verdict"], "compile": compiled, "tests": []}
        tests = []
        if self._zygote_for(job):
            self._zygote = self._start_zygote(language, workdir, self._zygote_limits(language, job.tests))
            if self._zygote is not None:
                try:
                    self._zygote.load(os.path.join(workdir, language.source_file))
                except ZygoteError as exc:
                    log.warning("python zygote failed, running tests by exec: %s", exc)
                    self._stop_zygote()
        try:
            for test in job.tests:
                control.check()
                tests.append(self._run_test(language, workdir, test, job.source))
                if job.stop_on_first_failure and tests[-1]["verdict"] != "OK":
                    break
        finally:
            self._stop_zygote()
        verdict = next((t["verdict"] for t in tests if t["verdict"] != "OK"), "OK")
        return {"verdict": verdict, "compile": compiled, "tests": tests}

    def _zygote_limits(self, language: Language, tests: list[TestSpec]) -> ChildLimits:
        """The zygote's own rlimits: the largest of the job's tests (each child lowers its own to its test's)."""
        limits = self._limits(max(t.time_limit_s for t in tests), max(t.memory_limit_mb for t in tests),
                              address_space=language.memory == "rlimit_as")
        return dataclasses.replace(limits, cpu_s=max(limits.cpu_s, ZYGOTE_CPU_S))

    def _start_zygote(self, language: Language, workdir: str, limits: ChildLimits) -> PythonZygote | None:
        """One interpreter for the whole job (it gets the program with ``load``): forked by the launcher, or,
        without one or if it fails (it is then replaced), exec'd."""
        if self._launcher is not None:
            try:
                return PythonZygote.fork_from(self._launcher, self.config.uid, workdir, limits, sandbox_env(workdir))
            except (LauncherError, OSError) as exc:
                log.warning("zygote launcher failed, starting this job's zygote by exec: %s", exc)
        try:
            return PythonZygote.start(spawner(uid=self.config.uid, workdir=workdir, limits=limits),
                                      language.run[0])
        except (ZygoteError, OSError) as exc:
            log.warning("python zygote not started, running tests by exec: %s", exc)
            return None

    def _stop_zygote(self) -> None:
        if self._zygote is not None:
            self._zygote.close()
            self._zygote = None

    def _make_workdir(self, workdir: str, language: Language, source: str) -> None:
        remove_tree(workdir)
        os.mkdir(workdir, 0o700)
        path = os.path.join(workdir, language.source_file)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        with open(fd, "w", encoding="utf-8") as f:
            f.write(source)
        if self.config.uid is not None:
            os.chown(workdir, self.config.uid, self.config.uid)
            os.chown(path, self.config.uid, self.config.uid)

    def _compile(self, language: Language, workdir: str, time_limit_s: float) -> dict:
        limits = self._limits(time_limit_s, COMPILE_MEMORY_MB, address_space=True)
        if self.config.cgroup:
            self.config.cgroup.prepare((COMPILE_MEMORY_MB + CGROUP_SLACK_MB) * MB, PROCESS_LIMIT)
        out = self._run(list(language.compile), b"", workdir, limits, time_limit_s,
                        COMPILE_OUTPUT_CAP, kill_on_stderr_cap=True)
        message = (out.stderr_head + out.stdout)[:COMPILE_MESSAGE_BYTES].decode("utf-8", "replace")
        info = {"verdict": "OK", "message": message, "cpu_ms": out.cpu_ms, "wall_ms": out.wall_ms,
                "exit_code": out.exit_code, "signal": out.signal}
        if out.setup_error:
            return info | {"verdict": "IE", "message": out.setup_error}
        if out.killed_for == "wall" or out.cpu_ms > time_limit_s * 1000:
            info |= {"verdict": "CE", "message": f"compilation exceeded {time_limit_s:g} s\n{message}"}
        elif out.killed_for == "output":
            info |= {"verdict": "CE", "message": f"compiler output over {COMPILE_OUTPUT_CAP} bytes\n{message}"}
        elif out.signal is not None or out.exit_code != 0:
            info["verdict"] = "CE"
        return info

    def _run_test(self, language: Language, workdir: str, test: TestSpec, source: str) -> dict:
        stdin = test.stdin.encode("utf-8")
        if language.stdin == "test_then_source":
            stdin += b"\n" + source.encode("utf-8") + b"\n"
        as_limit = language.memory == "rlimit_as"
        limits = self._limits(test.time_limit_s, test.memory_limit_mb, address_space=as_limit)
        cgroup = self.config.cgroup
        if cgroup:
            slack = CGROUP_SLACK_MB if as_limit else 0
            cgroup.prepare((test.memory_limit_mb + slack) * MB, PROCESS_LIMIT)
        oom_before = self.config.oom.kills() if self.config.oom and not cgroup else 0
        rss_limit = None if as_limit or cgroup else test.memory_limit_mb * MB
        # What this test may write into the reply: its own cap, and never past the job's output budget.
        stderr_cap = min(STDERR_HEAD_BYTES, self._output_left)
        stdout_cap = min(test.output_limit_bytes, self._output_left - stderr_cap)
        out, runner = self._run_program(language, test, stdin, workdir, limits, rss_limit, stdout_cap, stderr_cap)
        self._output_left -= len(out.stdout) + len(out.stderr_head)
        if cgroup:
            memory_hit = cgroup.hit_memory_limit()
        else:  # the container's limit killed something (node Buffers, say): an out-of-memory
            memory_hit = bool(self.config.oom and self.config.oom.killed_since(oom_before))
        verdict, reason = classify(out, test, memory_hit)
        if verdict == "OLE" and stdout_cap < test.output_limit_bytes:
            reason = f"the job's output over {JOB_OUTPUT_LIMIT_BYTES} bytes (all tests together)"
        return {
            "verdict": verdict, "reason": reason, "exit_code": out.exit_code, "signal": out.signal,
            "cpu_ms": out.cpu_ms, "wall_ms": out.wall_ms, "memory_kb": out.memory_kb,
            "stdout": out.stdout.decode("utf-8", "replace"), "stdout_truncated": out.stdout_truncated,
            "stderr": out.stderr_head.decode("utf-8", "replace"), "runner": runner,
        } | ({"error": out.setup_error} if out.setup_error else {})

    def _run_program(self, language: Language, test: TestSpec, stdin: bytes, workdir: str, limits: ChildLimits,
                     rss_limit: int | None, stdout_cap: int, stderr_cap: int) -> tuple[RunOutcome, str]:
        """Through the job's zygote while it works; any failure of it: this test and the rest by exec."""
        if self._zygote is not None:
            try:
                return self._run(None, stdin, workdir, limits, test.wall_limit_s, stdout_cap, stderr_cap=stderr_cap,
                                 rss_limit_bytes=rss_limit, zygote=self._zygote), "zygote"
            except ZygoteError as exc:
                log.warning("python zygote failed, running the rest of the job by exec: %s", exc)
                self._stop_zygote()
        return self._run(run_command(language, test.memory_limit_mb), stdin, workdir, limits, test.wall_limit_s,
                         stdout_cap, stderr_cap=stderr_cap, rss_limit_bytes=rss_limit), "exec"

    def _limits(self, time_limit_s: float, memory_mb: int, *, address_space: bool) -> ChildLimits:
        return ChildLimits(
            cpu_s=math.ceil(time_limit_s) + 1,
            address_space_bytes=memory_mb * MB if address_space else None,
            stack_bytes=memory_mb * MB,
            file_size_bytes=FILE_SIZE_LIMIT_BYTES,
            open_files=OPEN_FILES_LIMIT,
            processes=PROCESS_LIMIT if self.config.uid is not None else None,
            seccomp_filter=self.config.seccomp_filter,
        )

    def _run(self, argv, stdin, workdir, limits, wall_s, stdout_cap, kill_on_stderr_cap=False,
             rss_limit_bytes=None, zygote=None, stderr_cap=STDERR_HEAD_BYTES) -> RunOutcome:
        """One limited run; afterwards every process it left is killed and its CPU time counted
        (``tree.kill_tree``); raises ``JobStopped`` when the job's deadline passed or its caller hung up."""
        cgroup = self.config.cgroup
        outcome = None
        try:
            outcome = run_limited(
                argv, stdin=stdin, uid=self.config.uid, workdir=workdir, limits=limits, wall_s=wall_s,
                stdout_cap=stdout_cap, stderr_cap=stderr_cap if not kill_on_stderr_cap else stdout_cap,
                cgroup_procs=cgroup.procs_files() if cgroup else [], kill_on_stderr_cap=kill_on_stderr_cap,
                rss_limit_bytes=rss_limit_bytes, zygote=zygote, control=self._control,
            )
        finally:  # the test's whole process tree, escaped members included, before anything else runs
            if cgroup:
                for pid in cgroup.pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            usage = kill_tree(self._spared())
            if outcome is not None:
                outcome.cpu_ms += usage.cpu_ms
                outcome.memory_kb = max(outcome.memory_kb, usage.max_rss_kb)
        if outcome.killed_for == "stopped":
            raise JobStopped(self._control.stopped or "stopped")
        return outcome

    def _spared(self) -> set[int]:
        """Our children that outlive a test: the job's zygote and the zygote launcher."""
        spared = set()
        if self._zygote is not None and not self._zygote.closed:
            spared.add(self._zygote.pid)
        if self._launcher is not None and self._launcher.pid is not None:
            spared.add(self._launcher.pid)
        return spared

    def _clean_up(self, workdir: str) -> list[int]:
        survivors: list[int] = []
        uid = self.config.uid
        if uid is not None:
            extra = self.config.cgroup.pids() if self.config.cgroup else []
            survivors = kill_uid(uid, as_root=True, extra_pids=extra)
            wipe_shared_dirs(uid, private=self.config.private_dirs, keep=frozenset({self.config.work_root}))
            if not survivors and not self.config.ipcns and (left := remove_ipc_of(uid)):
                survivors = [f"IPC objects of uid {uid} left: {left}"]
        kill_tree(self._spared())
        reap_children()
        remove_tree(workdir)
        return survivors


@dataclass(frozen=True)
class SocketName:
    """The listening socket's path, held by a descriptor of its directory: it still names the socket after the
    supervisor mounted a private /tmp over the directory (``isolation.private_tmpfs``)."""

    path: str
    dir_fd: int | None = None

    @classmethod
    def open(cls, path: str) -> SocketName:
        return cls(path, os.open(os.path.dirname(os.path.abspath(path)), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))

    def _name(self) -> str:
        return self.path if self.dir_fd is None else os.path.basename(self.path)

    def ident(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self._name(), dir_fd=self.dir_fd, follow_symlinks=False)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def unlink_if(self, ident: tuple[int, int] | None) -> None:
        """Remove the socket only if it is still the one we created (never a successor's socket)."""
        if ident is not None and self.ident() == ident:
            try:
                os.unlink(self._name(), dir_fd=self.dir_fd)
            except OSError:
                pass
