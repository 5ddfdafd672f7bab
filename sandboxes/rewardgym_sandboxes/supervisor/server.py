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
from .isolation import Cgroup, ChildLimits, OomObserver
from .languages import LANGUAGES, OUT_OF_MEMORY_MARKERS, Language, run_command
from .process import RunOutcome, run_limited, sandbox_env, spawner
from .protocol import (
    STDERR_HEAD_BYTES, JobSpec, ProtocolError, TestsCache, TestSpec, parse_job, recv_frame, resolve_tests, send_frame,
)
from .zygote import LauncherError, PythonZygote, ZygoteError, ZygoteLauncher

log = logging.getLogger("sandbox.supervisor")

MB = 1024 * 1024
FILE_SIZE_LIMIT_BYTES = 64 * MB
OPEN_FILES_LIMIT = 256
PROCESS_LIMIT = 64  # processes + threads of the slot uid (RLIMIT_NPROC) and of the slot cgroup (pids.max)
CGROUP_SLACK_MB = 64  # cgroup limit above RLIMIT_AS, as a backstop, for rlimit_as languages
MLE_RSS_FRACTION = 0.9
COMPILE_MEMORY_MB = 2048
COMPILE_OUTPUT_CAP = 64 * 1024
COMPILE_MESSAGE_BYTES = 4096
ZYGOTE_CPU_S = 60  # the zygote's own RLIMIT_CPU (its children lower theirs to the test's)


@dataclass(frozen=True)
class SupervisorConfig:
    socket_path: str
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


class Supervisor:
    def __init__(self, config: SupervisorConfig):
        self.config = config
        self.jobs = 0
        self.tests_cache = TestsCache()
        self.stopping: str | None = None  # why serve_forever returns
        self._zygote: PythonZygote | None = None  # the current job's, while it is usable
        self._launcher: ZygoteLauncher | None = None
        if config.python_zygote and config.zygote_launcher:
            self._launcher = ZygoteLauncher(LANGUAGES["python"].run[0], config.uid)
        self.isolation = {
            "uid": config.uid,
            "netns": config.netns,
            "cgroup": config.cgroup.version if config.cgroup else None,
            "no_new_privs": True,
            "source_private": config.source_private,
            "interfaces": list(config.interfaces),
        }

    # ---- serving -------------------------------------------------------------------------------------
    def serve_forever(self, listener: socket.socket) -> str:
        """Serve connections until a reason to stop: ``max_jobs`` reached, the socket path unlinked or
        replaced (the pool's way of asking for a fresh sandbox), or the watched process gone."""
        ident = _inode(self.config.socket_path)
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
                if self.stopping is None and _inode(self.config.socket_path) != ident:
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
                reply = self.handle_job(message)
                if self.config.max_jobs and self.jobs >= self.config.max_jobs:
                    # Out of the way before replying: the next caller finds no socket (not a dead one).
                    self.stopping = f"{self.jobs} jobs done"
                    _unlink_if(self.config.socket_path, _inode(self.config.socket_path))
            if not self._reply(conn, reply) or self.stopping:
                return

    @staticmethod
    def _reply(conn: socket.socket, reply: dict) -> bool:
        try:
            send_frame(conn, reply)
            return True
        except OSError:
            return False

    # ---- one job -------------------------------------------------------------------------------------
    def handle_job(self, message: dict) -> dict:
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
        try:
            result = self._run_job(job, workdir)
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

    def _run_job(self, job: JobSpec, workdir: str) -> dict:
        language = LANGUAGES[job.language]
        self._make_workdir(workdir, language, job.source)
        compiled = None
        if language.compile is not None:
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
        out, runner = self._run_program(language, test, stdin, workdir, limits, rss_limit)
        if cgroup:
            memory_hit = cgroup.hit_memory_limit()
        else:  # the container's limit killed something (node Buffers, say): an out-of-memory
            memory_hit = bool(self.config.oom and self.config.oom.killed_since(oom_before))
        verdict, reason = classify(out, test, memory_hit)
        return {
            "verdict": verdict, "reason": reason, "exit_code": out.exit_code, "signal": out.signal,
            "cpu_ms": out.cpu_ms, "wall_ms": out.wall_ms, "memory_kb": out.memory_kb,
            "stdout": out.stdout.decode("utf-8", "replace"), "stdout_truncated": out.stdout_truncated,
            "stderr": out.stderr_head.decode("utf-8", "replace"), "runner": runner,
        } | ({"error": out.setup_error} if out.setup_error else {})

    def _run_program(self, language: Language, test: TestSpec, stdin: bytes, workdir: str, limits: ChildLimits,
                     rss_limit: int | None) -> tuple[RunOutcome, str]:
        """Through the job's zygote while it works; any failure of it: this test and the rest by exec."""
        if self._zygote is not None:
            try:
                return self._run(None, stdin, workdir, limits, test.wall_limit_s, test.output_limit_bytes,
                                 rss_limit_bytes=rss_limit, zygote=self._zygote), "zygote"
            except ZygoteError as exc:
                log.warning("python zygote failed, running the rest of the job by exec: %s", exc)
                self._stop_zygote()
        return self._run(run_command(language, test.memory_limit_mb), stdin, workdir, limits, test.wall_limit_s,
                         test.output_limit_bytes, rss_limit_bytes=rss_limit), "exec"

    def _limits(self, time_limit_s: float, memory_mb: int, *, address_space: bool) -> ChildLimits:
        return ChildLimits(
            cpu_s=math.ceil(time_limit_s) + 1,
            address_space_bytes=memory_mb * MB if address_space else None,
            stack_bytes=memory_mb * MB,
            file_size_bytes=FILE_SIZE_LIMIT_BYTES,
            open_files=OPEN_FILES_LIMIT,
            processes=PROCESS_LIMIT if self.config.uid is not None else None,
        )

    def _run(self, argv, stdin, workdir, limits, wall_s, stdout_cap, kill_on_stderr_cap=False,
             rss_limit_bytes=None, zygote=None) -> RunOutcome:
        cgroup = self.config.cgroup
        try:
            return run_limited(
                argv, stdin=stdin, uid=self.config.uid, workdir=workdir, limits=limits, wall_s=wall_s,
                stdout_cap=stdout_cap, stderr_cap=STDERR_HEAD_BYTES if not kill_on_stderr_cap else stdout_cap,
                cgroup_procs=cgroup.procs_files() if cgroup else [], kill_on_stderr_cap=kill_on_stderr_cap,
                rss_limit_bytes=rss_limit_bytes, zygote=zygote,
            )
        finally:  # escaped members of the test's process tree: the cgroup knows them all
            if cgroup:
                for pid in cgroup.pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            reap_children()

    def _clean_up(self, workdir: str) -> list[int]:
        survivors: list[int] = []
        uid = self.config.uid
        if uid is not None:
            extra = self.config.cgroup.pids() if self.config.cgroup else []
            survivors = kill_uid(uid, as_root=True, extra_pids=extra)
            wipe_shared_dirs(uid)
        reap_children()
        remove_tree(workdir)
        return survivors


def _inode(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _unlink_if(path: str, ident: tuple[int, int] | None) -> None:
    """Remove ``path`` only if it is still the file we created (never a successor's socket)."""
    if ident is not None and _inode(path) == ident:
        try:
            os.unlink(path)
        except OSError:
            pass


def classify(out: RunOutcome, test: TestSpec, memory_hit: bool) -> tuple[str, str | None]:
    """The verdict rules (sandboxes/README.md), first match wins."""
    failed = out.signal is not None or out.exit_code != 0
    stderr = out.stderr_head + out.stderr_tail
    if out.setup_error:
        return "IE", "sandbox setup failed"
    if out.killed_for == "output":
        return "OLE", f"stdout over {test.output_limit_bytes} bytes"
    if out.killed_for == "memory":
        return "MLE", "resident memory over the limit"
    if failed and (memory_hit or any(marker in stderr for marker in OUT_OF_MEMORY_MARKERS)):
        return "MLE", "out of memory"
    if out.cpu_ms > test.time_limit_s * 1000 or out.signal == signal.SIGXCPU:
        return "TLE", "cpu"
    if out.killed_for == "wall":
        return "TLE", "wall"
    if not failed:
        return "OK", None
    if out.memory_kb * 1024 >= MLE_RSS_FRACTION * test.memory_limit_mb * MB:
        return "MLE", "peak memory near the limit"
    if out.signal is not None:
        return "RE", f"signal {_signal_name(out.signal)}"
    return "RE", f"exit code {out.exit_code}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
