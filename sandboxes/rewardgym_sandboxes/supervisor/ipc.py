"""After each job: no SysV IPC object (shared memory, message queue, semaphore set) and no POSIX message queue
of the sandbox uid is left in the supervisor's IPC namespace.

Where the supervisor can make one, every job runs in a fresh IPC namespace (``isolation.enter_new_ipcns``), and
its objects go with its last process. Inside a container it cannot (no CAP_SYS_ADMIN), so this removes them: a
segment left behind would stay charged to the container's memory (a later correct solution gets MLE) and would
carry data from one job to the next. Root without CAP_SYS_ADMIN (or CAP_IPC_OWNER) may not remove another
uid's objects, so a helper forked as the sandbox uid does it: the creator may always remove its own.
POSIX shared memory lives in /dev/shm, which ``cleanup.wipe_shared_dirs`` empties.
"""

from __future__ import annotations

import ctypes
import os

from .cleanup import run_as

IPC_RMID = 0
SYSV_FILES = {"shm": ("/proc/sysvipc/shm", "shmid"), "msg": ("/proc/sysvipc/msg", "msqid"),
              "sem": ("/proc/sysvipc/sem", "semid")}
MQUEUE_DIR = "/dev/mqueue"


def sysv_objects(uid: int) -> dict[str, list[int]]:
    """Ids of the SysV objects whose owner or creator is ``uid``, per kind (from /proc/sysvipc)."""
    found: dict[str, list[int]] = {}
    for kind, (path, id_column) in SYSV_FILES.items():
        try:
            with open(path) as f:
                header, *rows = f.read().splitlines()
        except (OSError, ValueError):
            continue
        names = header.split()
        columns = names.index(id_column), names.index("uid"), names.index("cuid")
        ids = [int(fields[columns[0]]) for fields in map(str.split, rows)
               if len(fields) == len(names) and uid in (int(fields[columns[1]]), int(fields[columns[2]]))]
        if ids:
            found[kind] = ids
    return found


def mqueues(uid: int) -> list[str]:
    try:
        entries = list(os.scandir(MQUEUE_DIR))
    except OSError:
        return []
    out = []
    for entry in entries:
        try:
            if entry.stat(follow_symlinks=False).st_uid == uid:
                out.append(entry.path)
        except OSError:
            pass
    return out


def _remove_all(uid: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for kind, ids in sysv_objects(uid).items():
        for ident in ids:
            if kind == "shm":
                libc.shmctl(ident, IPC_RMID, None)
            elif kind == "msg":
                libc.msgctl(ident, IPC_RMID, None)
            else:
                libc.semctl(ident, 0, IPC_RMID)
    for path in mqueues(uid):
        try:
            os.unlink(path)
        except OSError:
            pass


def remove_ipc_of(uid: int) -> dict[str, list]:
    """Remove every SysV object and POSIX message queue of ``uid`` (as that uid, in a forked helper); returns
    what is still there afterwards (empty when all went)."""
    if not sysv_objects(uid) and not mqueues(uid):
        return {}
    run_as(uid, lambda: _remove_all(uid))
    left = sysv_objects(uid)
    queues = mqueues(uid)
    return left | ({"mqueue": queues} if queues else {})
