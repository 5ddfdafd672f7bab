"""Helpers for the sandbox tests: a real supervisor, started as a subprocess on a temp socket (as root: with
its own sandbox uid). Kept out of conftest.py so that `import` finds it by a unique name."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from rewardgym_sandboxes.bwrap import supervisor_command  # noqa: E402
from rewardgym_sandboxes.pool import install_private_supervisor  # noqa: E402
from rewardgym_sandboxes.client import SandboxUnavailable, run_job, supervisor_info  # noqa: E402
from rewardgym_sandboxes.supervisor.cleanup import SHARED_WRITABLE_DIRS, processes_of  # noqa: E402

IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="uid isolation needs the supervisor to run as root")


@dataclass
class RunningSupervisor:
    socket: str
    process: subprocess.Popen
    uid: int | None
    work_root: Path
    source_dir: Path
    secret: str
    isolation: dict
    pid: int = 0
    """The supervisor's own pid on the host (under bwrap: not the bwrap process)."""

    def __post_init__(self) -> None:
        self.pid = self.pid or self.process.pid

    def host_pid(self, pid: int) -> int:
        """A pid the supervisor reports (its own pid namespace under bwrap) as the host sees it."""
        if self.pid == self.process.pid:
            return pid
        for child in _descendants(self.process.pid):
            try:
                with open(f"/proc/{child}/status") as f:
                    nspid = next(line.split()[1:] for line in f if line.startswith("NSpid:"))
            except (OSError, StopIteration):
                continue
            if nspid and int(nspid[-1]) == pid:
                return child
        raise LookupError(f"Expected a process with pid {pid} in the supervisor's namespace, found none")

    def run(self, job: dict, timeout: float = 60) -> dict:
        return run_job(self.socket, job, timeout)

    def view(self, path: str | Path) -> str:
        """``path`` as the supervisor and its programs see it (its own mount namespace: a private /tmp)."""
        return f"/proc/{self.pid}/root{path}"

    def leftovers(self) -> dict:
        """Processes and files of the sandbox uid that survived a job (all should be empty)."""
        files = [] if self.uid is None else [
            e.path for d in SHARED_WRITABLE_DIRS if os.path.isdir(self.view(d))
            for e in os.scandir(self.view(d)) if _owner(e) == self.uid
        ]
        return {
            "processes": processes_of(self.uid) if self.uid is not None else [],
            "shared_files": files,
            "work_dirs": sorted(os.listdir(self.view(self.work_root))),
        }


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        return out
    for child in children:
        out += [child, *_descendants(child)]
    return out


def _supervisor_pid(process: subprocess.Popen) -> int:
    """The supervisor's host pid under ``process`` (bwrap forks it inside its namespaces)."""
    for pid in _descendants(process.pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if not argv[0].endswith(b"bwrap") and b"rewardgym_sandboxes.supervisor" in argv:
                return pid
        except OSError:
            continue
    return process.pid


def _owner(entry: os.DirEntry) -> int | None:
    try:
        return entry.stat(follow_symlinks=False).st_uid
    except OSError:
        return None


_UIDS_GIVEN: set[int] = set()  # two supervisors of one session never share a uid (nor its slot and cgroup)


def _free_uid() -> int:
    rng = random.Random()
    for _ in range(100):
        uid = rng.randrange(62000, 63000)
        if uid not in _UIDS_GIVEN and not processes_of(uid):
            _UIDS_GIVEN.add(uid)
            return uid
    raise RuntimeError("Expected a free sandbox uid in [62000, 63000), found none")


@pytest.fixture(scope="session")
def supervisor(tmp_path_factory) -> RunningSupervisor:
    """The default supervisor (Python tests through the per-job zygote)."""
    yield from _running_supervisor(tmp_path_factory)


@pytest.fixture(scope="session")
def supervisor_exec(tmp_path_factory) -> RunningSupervisor:
    """A second supervisor that runs every Python test by fork + exec (``--python-zygote off``)."""
    yield from _running_supervisor(tmp_path_factory, "--python-zygote", "off")


@pytest.fixture(scope="session")
def supervisor_no_launcher(tmp_path_factory) -> RunningSupervisor:
    """Python tests through the per-job zygote, exec'd per job (``--zygote-launcher off``): the old way."""
    yield from _running_supervisor(tmp_path_factory, "--zygote-launcher", "off")


@pytest.fixture()
def supervisor_scratch(tmp_path_factory) -> RunningSupervisor:
    """A supervisor of one's own, for tests that break something of it (its zygote launcher)."""
    yield from _running_supervisor(tmp_path_factory)


def _running_supervisor(tmp_path_factory, *extra_args: str, bwrap: bool = False):
    """``bwrap=True``: the supervisor inside bubblewrap, as the local fallback runs it without Docker."""
    private = tmp_path_factory.mktemp("sandbox-supervisor")
    os.chmod(private, 0o700)
    command = install_private_supervisor(str(private))  # a private copy, as in a container image
    socket_dir = private
    if bwrap:
        socket_dir = private / "sockets"
        socket_dir.mkdir(mode=0o700)
        command = supervisor_command(str(private), str(socket_dir), root=IS_ROOT)
    source_dir = private / "rewardgym_sandboxes" / "supervisor"
    uid = _free_uid() if IS_ROOT else None
    slot = (uid or 62000) - 62000 + 100
    work_root = Path(f"/tmp/rewardgym-sandbox-test-{slot}")
    socket_path = str(socket_dir / "supervisor.sock")
    secret = f"s3cret-{random.randrange(10**12)}"
    cmd = [*command, "--socket", socket_path, "--slot", str(slot),
           "--work-root", str(work_root)]
    if uid is not None:
        cmd += ["--uid", str(uid)]
    cmd += list(extra_args)
    env = dict(os.environ, RG_SUPERVISOR_SECRET=secret)
    process = subprocess.Popen(cmd, env=env, cwd=private)
    deadline = time.monotonic() + 15
    while True:
        try:
            info = supervisor_info(socket_path, timeout=2)
            break
        except SandboxUnavailable:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    supervisor = RunningSupervisor(socket_path, process, uid, work_root, source_dir, secret, info["isolation"],
                                   _supervisor_pid(process) if bwrap else 0)
    yield supervisor
    process.terminate()
    process.wait(10)
    shutil.rmtree(work_root, ignore_errors=True)


def python_job(source: str, *stdins: str, **limits) -> dict:
    return {"language": "python", "source": source, "tests": [{"stdin": s, **limits} for s in stdins or [""]]}
