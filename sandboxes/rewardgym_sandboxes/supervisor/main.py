"""Command line: ``python3 -m rewardgym_sandboxes.supervisor --socket PATH [--slot N] [...]``."""

from __future__ import annotations

import argparse
import logging
import os
import pwd
import signal
import socket
import stat
import sys
import zlib

from . import seccomp
from .cleanup import SHARED_WRITABLE_DIRS, kill_uid, remove_tree
from .isolation import (
    Cgroup, OomObserver, become_subreaper, enter_new_netns, enter_private_mounts, ipcns_allowed, mount_tmpfs,
)
from .server import SocketName, Supervisor, SupervisorConfig

UID_BASE = 61000  # slot uids: 61000 + slot (no passwd entry; override with --uid)

log = logging.getLogger("sandbox.supervisor")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="supervisor", description="Run untrusted programs against tests.")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket", help="Unix socket path to listen on (its dir should be 0700)")
    where.add_argument("--socket-dir", help="listen on DIR/<hostname>.sock (compose replicas share one DIR)")
    p.add_argument("--slot", type=int, default=None,
                   help="slot number; picks the sandbox uid UID_BASE+slot (default 0, or with --socket-dir a "
                        "number in [1000, 5000) derived from the hostname)")
    p.add_argument("--socket-owner", default=None, help="UID[:GID] to chown the socket to (default: root's only)")
    p.add_argument("--max-jobs", type=int, default=None, help="exit after this many jobs (to be replaced)")
    p.add_argument("--watch-pid", type=int, default=None, help="exit when this process exits")
    p.add_argument("--uid", type=int, default=None, help="sandbox uid (default 61000 + slot; root only)")
    p.add_argument("--allow-named-uid", action="store_true", help="accept a uid that has a passwd entry")
    p.add_argument("--work-root", default=None, help="where job dirs are made (default /tmp/rewardgym-sandbox-<slot>)")
    p.add_argument("--netns", choices=("auto", "off", "require"), default="auto")
    p.add_argument("--cgroup", choices=("auto", "off"), default="auto")
    p.add_argument("--python-zygote", choices=("on", "off"), default="on",
                   help="run a job's Python tests as forks of one interpreter (default) or each by exec")
    p.add_argument("--zygote-launcher", choices=("on", "off"), default="on",
                   help="fork each job's Python zygote from a root launcher (default) or exec it per job")
    p.add_argument("--private-tmp", choices=("auto", "off"), default="auto",
                   help="as root where mounts are allowed (not in a container): a mount namespace of our own with "
                        "size-capped tmpfs on the work root and on /tmp, /var/tmp, /dev/shm, /run/lock")
    p.add_argument("--work-size", default="256m", help="size of the work root's tmpfs (--private-tmp)")
    p.add_argument("--tmp-size", default="64m", help="size of each private /tmp, /var/tmp, ... (--private-tmp)")
    p.add_argument("--seccomp", choices=("on", "off"), default="on",
                   help="seccomp filter in every sandbox process (no namespaces, mounts, ptrace, keyrings, bpf...)")
    p.add_argument("--log-level", default="INFO")
    return p.parse_args(argv)


def _sandbox_uid(args: argparse.Namespace) -> int | None:
    if os.geteuid() != 0:
        log.warning("not running as root: programs run as our own uid, without uid isolation")
        return None
    uid = args.uid if args.uid is not None else UID_BASE + args.slot
    if uid == 0:
        raise SystemExit("Expected a non-root sandbox uid, got 0")
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = None
    if name is not None and not args.allow_named_uid:
        # Every process of this uid is killed after each job: never aim that at a real account.
        raise SystemExit(f"Expected a uid without a passwd entry, got {uid} ({name}); pass --allow-named-uid")
    return uid


def _is_private(path: str) -> bool:
    """True when no one but root can read ``path`` (some directory on the way is closed to others)."""
    path = os.path.abspath(path)
    while True:
        st = os.stat(path)
        if st.st_uid == 0 and not st.st_mode & (stat.S_IROTH | stat.S_IXOTH) and not st.st_mode & stat.S_IRWXG:
            return True
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent


def _make_work_root(path: str) -> None:
    if os.path.islink(path) or (os.path.exists(path) and os.lstat(path).st_uid != os.geteuid()):
        remove_tree(path)
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o711)  # the sandbox may enter its own job dir, not list the others


def _private_dirs(work_root: str, work_size: str, tmp_size: str) -> frozenset[str]:
    """A mount namespace of our own: fresh size-capped tmpfs on the shared writable dirs (the sandbox's files
    there are ours alone, invisible to the host, emptied after each job) and on the work root (a disk cap for
    the job dirs). Returns the shared dirs mounted; empty where mounts are not allowed (nothing changed)."""
    if not enter_private_mounts():
        return frozenset()
    mounted = frozenset(d for d in SHARED_WRITABLE_DIRS if mount_tmpfs(d, f"size={tmp_size},mode=1777,noexec"))
    _make_work_root(work_root)
    if not mount_tmpfs(work_root, f"size={work_size},mode=0711"):
        raise SystemExit(f"Expected to mount a tmpfs on the work root {work_root}, but mount failed")
    return mounted


def _listen(path: str, owner: str | None = None) -> socket.socket:
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        # Bind under a temporary name, then rename: a caller never finds the path before it accepts connections.
        tmp = f"{path}.{os.getpid()}.tmp"
        if os.path.exists(tmp):
            os.unlink(tmp)
        listener.bind(tmp)
        if owner:
            uid, _, gid = owner.partition(":")
            os.chown(tmp, int(uid), int(gid or uid))
        listener.listen(16)
        os.rename(tmp, path)
    finally:
        os.umask(old)
    listener.listen(16)
    return listener


def _interfaces() -> tuple[str, ...]:
    try:
        with open("/proc/net/dev") as f:
            return tuple(line.split(":")[0].strip() for line in f.readlines()[2:])
    except OSError:
        return ()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.socket_dir:
        host = socket.gethostname()
        args.socket = os.path.join(args.socket_dir, f"{host}.sock")
        if args.slot is None:  # distinct uids per replica: RLIMIT_NPROC counts a uid's processes host-wide
            args.slot = 1000 + zlib.crc32(host.encode()) % 4000
    if args.slot is None:
        args.slot = 0
    logging.basicConfig(level=args.log_level, format="%(asctime)s supervisor[%(process)d] %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uid = _sandbox_uid(args)
    netns = args.netns != "off" and enter_new_netns()
    if args.netns == "require" and not netns:
        raise SystemExit("Expected to create a network namespace (--netns require), but unshare failed")
    become_subreaper()
    cgroup = Cgroup.create(f"rewardgym-sandbox-{args.slot}") if args.cgroup == "auto" and uid is not None else None
    work_root = args.work_root or f"/tmp/rewardgym-sandbox-{args.slot}"
    package_dir = os.path.dirname(os.path.abspath(__file__))
    source_private = _is_private(package_dir)
    # Bound before a private /tmp may hide its directory; then named through a descriptor of that directory.
    listener = _listen(args.socket, args.socket_owner)
    sock = SocketName.open(args.socket)
    ident = sock.ident()
    private = frozenset()
    if uid is not None and args.private_tmp == "auto":
        private = _private_dirs(work_root, args.work_size, args.tmp_size)
    if not private:
        _make_work_root(work_root)
    if uid is not None:
        kill_uid(uid, as_root=True)  # leftovers of a previous supervisor of this slot
    config = SupervisorConfig(
        socket=sock, work_root=work_root, uid=uid, netns=netns, cgroup=cgroup,
        source_private=source_private, max_jobs=args.max_jobs, watch_pid=args.watch_pid,
        oom=OomObserver.find() if cgroup is None else None, interfaces=_interfaces(),
        python_zygote=args.python_zygote == "on", zygote_launcher=args.zygote_launcher == "on",
        ipcns=uid is not None and ipcns_allowed(), private_dirs=private,
        seccomp_filter=seccomp.filter_program() if args.seccomp == "on" else None,
    )
    if not config.source_private:
        log.warning("the supervisor's source at %s is readable by the sandbox uid", package_dir)
    log.info("listening on %s: uid=%s netns=%s cgroup=%s ipcns=%s private=%s seccomp=%s", args.socket, uid, netns,
             cgroup and cgroup.version, config.ipcns, sorted(private), config.seccomp_filter is not None)
    try:
        Supervisor(config).serve_forever(listener)
    finally:
        listener.close()
        if uid is not None:
            kill_uid(uid, as_root=True)
        if cgroup:
            cgroup.remove()
        sock.unlink_if(ident)
        if not private:  # else the private tmpfs go with our mount namespace
            remove_tree(work_root)
    return 0
