"""After each test: every descendant of the supervisor (but the job's zygote and the launcher) is killed and
reaped, and the CPU time and memory of all of them are added to the test's.

Every process a test starts stays in the supervisor's tree: the supervisor is a child subreaper (PID 1 in a
container), so a child that the test leaves behind, double-forked or in its own session, is re-parented to it
when its parent dies, never to the host's init. Killing the tree is therefore complete with or without a slot
cgroup, and reaping it with ``wait4`` gives the CPU time of processes the test never waited for: a background
child burning CPU while the test's own process sleeps is counted against the test's limit.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass


@dataclass
class TreeUsage:
    cpu_ms: int = 0
    max_rss_kb: int = 0
    survivors: int = 0  # descendants still there after every round (never seen; reported, not fatal here)


def _children(pid: int) -> list[int]:
    """Children of ``pid``'s main thread from /proc/<pid>/task/<pid>/children (zombies included). A child that
    another thread forked is not listed, but it is found all the same: once its parent is killed it becomes
    ours (we are a subreaper), and ``kill_tree`` goes on until nothing is left."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", "rb") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _children_by_scan() -> dict[int, list[int]]:
    """parent -> children from every /proc/<pid>/stat (kernels without CONFIG_PROC_CHILDREN)."""
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
            tree.setdefault(ppid, []).append(int(name))
    return tree


_HAS_CHILDREN_FILE = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def descendants(root: int, spare: set[int] = frozenset()) -> list[int]:
    """Every descendant of ``root`` (zombies included), but ``spare`` processes and what is below them (the
    zygote's test processes are ours, not its: it has no children of its own)."""
    if _HAS_CHILDREN_FILE:
        children = _children
    else:
        tree = _children_by_scan()
        children = lambda pid: tree.get(pid, [])  # noqa: E731
    found, stack = [], [pid for pid in children(root) if pid not in spare]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children(pid))
    return found


def reap(spare: set[int], usage: TreeUsage) -> None:
    """Collect every exited child of ours, adding its rusage (which holds the children it reaped) to ``usage``;
    a ``spare`` process that died (the zygote, killed by its own job) is collected but not counted."""
    while True:
        try:
            pid, _, rusage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        except InterruptedError:
            continue
        if pid == 0:
            return
        if pid not in spare:
            usage.cpu_ms += int((rusage.ru_utime + rusage.ru_stime) * 1000)
            usage.max_rss_kb = max(usage.max_rss_kb, rusage.ru_maxrss)


def kill_tree(spare: set[int], rounds: int = 200) -> TreeUsage:
    """SIGKILL every descendant of this process except ``spare`` (and what is below them), reap them
    all, and return what they used. Repeats until none is left: a process forked while we scanned is found
    in the next round (a killed process cannot fork any more)."""
    usage = TreeUsage()
    me = os.getpid()
    for round_ in range(rounds):
        reap(spare, usage)
        victims = descendants(me, spare)
        if not victims:
            return usage
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if round_:
            time.sleep(0.0005)
    reap(spare, usage)
    usage.survivors = len(descendants(me, spare))
    return usage
