"""Supervisors under bubblewrap: the isolation of the local fallback when there is no Docker (docs/hpc.md).

Without it a model-written program reads every world-readable file of the host (the hidden tests and gold answers
on a cluster's file system). Under ``bwrap`` each slot's supervisor lives in namespaces of its own: a mount
namespace holding only the toolchains read-only (``/usr`` and the few ``/etc`` files the compilers and runtimes
read), a private tmpfs ``/tmp`` (the work root), its own ``/proc`` and pid namespace (no other slot's processes),
no network, no IPC, its own hostname. The supervisor's hardening runs inside unchanged: as root, bwrap keeps the
supervisor's capabilities so it still switches each program to the slot's uid, mounts its size-capped tmpfs,
makes IPC namespaces and the slot's cgroup; as another user, bwrap maps that user into a user namespace (what
HPC sites that forbid Docker usually allow) and programs run as that uid, still seeing no host file.

bwrap is started once per slot (the zygote and fork-per-test design inside is unchanged). Standard library only.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

MODE_ENV = "REWARDGYM_SANDBOX_MODE"
"""What the worker decided for its scoring processes: ``bwrap``, ``unsafe`` or ``refused``."""
UNSAFE_ENV = "REWARDGYM_UNSAFE_SANDBOX"
"""``1``: the operator passed ``--unsafe-sandbox`` (programs may run without isolation when bwrap cannot)."""
ISOLATION_ENV = "REWARDGYM_SANDBOX_ISOLATION"
"""The one-line isolation summary of the worker's sandboxes (shown per code environment in /v1/envs, /readyz)."""
REFUSAL_ENV = "REWARDGYM_SANDBOX_REFUSAL"
"""Why sandboxes are refused: the message every code item answers with (status error)."""

SUPERVISOR_HOME = "/opt/rewardgym-supervisor"  # where the private supervisor copy is mounted inside (mode 0700)
SANDBOX_TMP = "/tmp"
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl/openssl.cnf", "localtime")
"""The only host files of /etc the toolchains read (loader cache, g++/node alternatives, node's OpenSSL)."""
HOW_TO_ENABLE = (
    "install bubblewrap (apt-get install bubblewrap; scripts/setup.sh does it as root) and allow user namespaces "
    "(sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0), or run the sandbox containers "
    "with Docker; `--unsafe-sandbox` runs model-written code without isolation (never on data you must keep secret)"
)


@dataclass(frozen=True)
class Probe:
    """Whether bwrap can create the namespaces here; ``reason`` says why not."""

    ok: bool
    reason: str = ""


def unsafe_allowed() -> bool:
    return os.environ.get(UNSAFE_ENV, "") == "1"


def supervisor_interpreter() -> tuple[str, list[str]]:
    """A Python interpreter for the supervisor inside the sandbox, and the host dirs it needs bound read-only:
    the system's ``python3`` under /usr when there is one (the supervisor uses the standard library only), else
    this process's own base interpreter with its prefix (a pyenv or a cluster module outside /usr)."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        real = os.path.realpath(candidate)
        if os.access(real, os.X_OK) and real.startswith("/usr/"):
            return real, []
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    return base, [os.path.realpath(sys.base_prefix)]


def sandbox_args(private_dir: str, socket_dir: str, *, root: bool) -> list[str]:
    """bwrap's arguments (up to and including ``--``) for one slot's supervisor: ``private_dir`` holds the
    private supervisor copy (``install_private_supervisor``), ``socket_dir`` is where it binds its socket (the
    only host path it can write; 0700 and root's own as root)."""
    interpreter, extra = supervisor_interpreter()
    args = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--hostname", "sandbox", "--unshare-cgroup-try"]
    if root:  # keep the capabilities: the supervisor switches uids, mounts tmpfs, makes IPC namespaces, cgroups
        args += ["--cap-add", "ALL"]
    else:  # the user mapped into a user namespace of its own
        args += ["--unshare-user"]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib32", "lib64", "libx32", "sbin"):
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            if "/" in name:  # bwrap makes missing parents 0700: the sandbox uid could not reach the file
                args += ["--perms", "0755", "--dir", f"/etc/{os.path.dirname(name)}"]
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for path in extra:
        args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", SANDBOX_TMP, "--perms", "1777", "--dir", "/var/tmp"]
    if root and os.path.isdir("/sys/fs/cgroup"):  # the slot's cgroup (memory, pids); root-owned, not the sandbox's
        args += ["--bind", "/sys/fs/cgroup", "/sys/fs/cgroup"]
    args += ["--bind", socket_dir, socket_dir,
             "--perms", "0700", "--dir", SUPERVISOR_HOME,
             "--ro-bind", os.path.join(private_dir, "rewardgym_sandboxes"),
             f"{SUPERVISOR_HOME}/rewardgym_sandboxes",
             "--chdir", SUPERVISOR_HOME, "--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
             "--", interpreter]
    return args


def supervisor_command(private_dir: str, socket_dir: str, *, root: bool, bwrap: str | None = None) -> list[str]:
    """The full command of one slot's supervisor under bwrap, up to the supervisor's own options."""
    binary = bwrap or shutil.which("bwrap")
    if binary is None:
        raise FileNotFoundError(f"Expected bwrap on PATH, got none; {HOW_TO_ENABLE}")
    return [binary, *sandbox_args(private_dir, socket_dir, root=root), "-E", "-s", "-B", "-m",
            "rewardgym_sandboxes.supervisor"]


@functools.lru_cache(maxsize=4)
def probe(path: str | None = None) -> Probe:
    """Try the namespaces a slot needs, once (cached per PATH): bwrap present, and able to run the
    interpreter in a fresh mount, pid, network and IPC namespace."""
    binary = shutil.which("bwrap", path=path if path is not None else os.environ.get("PATH"))
    if binary is None:
        return Probe(False, "bwrap (bubblewrap) is not on PATH")
    root = os.geteuid() == 0
    interpreter, extra = supervisor_interpreter()
    args = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent",
            *(["--cap-add", "ALL"] if root else ["--unshare-user"]), "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64"):
        if os.path.islink(f"/{name}"):
            args += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
    for path in extra:
        args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--", interpreter, "-c", "pass"]
    try:
        done = subprocess.run([binary, *args], capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Probe(False, f"bwrap could not start: {exc}")
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return Probe(False, f"bwrap cannot create namespaces here ({message[-1] if message else done.returncode})")
    return Probe(True)


def refusal_message(reason: str) -> str:
    """What a code item answers when no isolation is available (status error, reward null)."""
    return f"sandbox refused: no isolation for model-written code ({reason}); to enable it: {HOW_TO_ENABLE}"
