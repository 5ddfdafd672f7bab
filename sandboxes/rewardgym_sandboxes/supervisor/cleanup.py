"""After a job: no process of the sandbox uid survives, and no file of it is left behind."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import time

SHARED_WRITABLE_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")


def _uid_of(pid: str) -> tuple[set[int], bool] | None:
    """Real/effective/saved/fs uids and whether it is a zombie (``/proc/<pid>`` ownership is not
    reliable: a non-dumpable process shows as root)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            text = f.read()
    except OSError:
        return None
    uids: set[int] = set()
    zombie = False
    start = text.find("\nUid:")
    if start >= 0:
        uids = {int(x) for x in text[start + 5:text.find("\n", start + 5)].split()}
    start = text.find("\nState:")
    if start >= 0:
        zombie = text[start + 7:start + 16].split()[:1] in (["Z"], ["X"])
    return uids, zombie


def processes_of(uid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = _uid_of(name)
            if info is not None and uid in info[0] and not info[1]:
                out.append(int(name))
    return out


def reap_children() -> None:
    """Collect zombies re-parented to us (we are a subreaper, or PID 1 in a container)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def run_as(uid: int, action) -> None:
    """Run ``action()`` in a forked helper that has become ``uid`` (all uids, gid, no groups), and wait for it."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            action()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _kill_all_as(uid: int) -> None:
    """kill(-1, SIGKILL) from a helper running as ``uid``: signals every process of that uid in one pass
    of the kernel's task list, so a fork bomb cannot outrun it."""
    run_as(uid, lambda: os.kill(-1, signal.SIGKILL))


def kill_uid(uid: int, *, as_root: bool, extra_pids: list[int] = (), rounds: int = 100) -> list[int]:
    """SIGKILL every process of ``uid`` (and ``extra_pids``) until none is left; returns survivors."""
    for pid in extra_pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    left = processes_of(uid)
    for _ in range(rounds):
        if not left:
            break
        if as_root:
            _kill_all_as(uid)
        for pid in left:  # also catches processes that changed euid (setuid binaries)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap_children()
        time.sleep(0.001)
        left = processes_of(uid)
    reap_children()
    return left


def remove_tree(path: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    try:
        shutil.rmtree(path)
    except (OSError, RecursionError):
        subprocess.run(["rm", "-rf", "--one-file-system", "--", path], check=False)


def wipe_shared_dirs(uid: int, dirs=SHARED_WRITABLE_DIRS, *, private: frozenset[str] = frozenset(),
                     keep: frozenset[str] = frozenset()) -> list[str]:
    """Remove what the sandbox uid left in the world-writable dirs; returns what was removed. A dir in
    ``private`` (this supervisor's own tmpfs) is emptied but for ``keep``; in the others every entry owned by
    ``uid`` goes, at any depth (a file in a world-writable subdirectory of /tmp is found too)."""
    removed: list[str] = []
    for d in dirs:
        _wipe(d, uid, d in private, keep, removed, 0)
    return removed


MAX_WIPE_DEPTH = 16


def _wipe(directory: str, uid: int, everything: bool, keep: frozenset[str], removed: list[str], depth: int) -> None:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if entry.path in keep:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if everything or st.st_uid == uid:
                remove_tree(entry.path)
                removed.append(entry.path)
            elif stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_IXOTH and depth < MAX_WIPE_DEPTH:
                _wipe(entry.path, uid, False, keep, removed, depth + 1)  # the uid may have written below
        except OSError:
            pass
