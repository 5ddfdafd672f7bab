"""Command line: ``python3 -m sandboxes.supervisor --socket PATH [--slot N] [...]``."""

from __future__ import annotations

import argparse
import logging
import os
import pwd
import signal
import socket
import stat
import sys

from .cleanup import kill_uid, remove_tree
from .isolation import Cgroup, become_subreaper, enter_new_netns
from .server import Supervisor, SupervisorConfig

UID_BASE = 61000  # slot uids: 61000 + slot (no passwd entry; override with --uid)

log = logging.getLogger("sandbox.supervisor")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="supervisor", description="Run untrusted programs against tests.")
    p.add_argument("--socket", required=True, help="Unix socket path to listen on (its dir should be 0700)")
    p.add_argument("--slot", type=int, default=0, help="slot number; picks the sandbox uid UID_BASE+slot")
    p.add_argument("--uid", type=int, default=None, help="sandbox uid (default 61000 + slot; root only)")
    p.add_argument("--allow-named-uid", action="store_true", help="accept a uid that has a passwd entry")
    p.add_argument("--work-root", default=None, help="where job dirs are made (default /tmp/rewardgym-sandbox-<slot>)")
    p.add_argument("--netns", choices=("auto", "off", "require"), default="auto")
    p.add_argument("--cgroup", choices=("auto", "off"), default="auto")
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


def _listen(path: str) -> socket.socket:
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(old)
    listener.listen(16)
    return listener


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s supervisor[%(process)d] %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uid = _sandbox_uid(args)
    netns = args.netns != "off" and enter_new_netns()
    if args.netns == "require" and not netns:
        raise SystemExit("Expected to create a network namespace (--netns require), but unshare failed")
    become_subreaper()
    cgroup = Cgroup.create(f"rewardgym-sandbox-{args.slot}") if args.cgroup == "auto" and uid is not None else None
    work_root = args.work_root or f"/tmp/rewardgym-sandbox-{args.slot}"
    _make_work_root(work_root)
    if uid is not None:
        kill_uid(uid, as_root=True)  # leftovers of a previous supervisor of this slot
    package_dir = os.path.dirname(os.path.abspath(__file__))
    config = SupervisorConfig(
        socket_path=args.socket, work_root=work_root, uid=uid, netns=netns, cgroup=cgroup,
        source_private=_is_private(package_dir),
    )
    if not config.source_private:
        log.warning("the supervisor's source at %s is readable by the sandbox uid", package_dir)
    listener = _listen(args.socket)
    log.info("listening on %s: uid=%s netns=%s cgroup=%s", args.socket, uid, netns, cgroup and cgroup.version)
    try:
        Supervisor(config).serve_forever(listener)
    finally:
        listener.close()
        if uid is not None:
            kill_uid(uid, as_root=True)
        if cgroup:
            cgroup.remove()
        for remove in (os.unlink, os.rmdir):
            try:
                remove(args.socket if remove is os.unlink else work_root)
            except OSError:
                pass
    return 0
