"""Warm sandbox containers: start one per slot, replace the ones that die or are recycled, remove them at exit.

    python -m rewardgym_sandboxes.manager --socket-dir /run/rewardgym/sandbox --slots 4     # runs until SIGTERM/SIGINT

Each container runs the supervisor (image ``rewardgym/sandbox``, ``sandboxes/images/``) on
``<socket-dir>/slot-<i>.sock``; callers use ``rewardgym_sandboxes.pool.SandboxPool(socket_dir)``. A container is replaced
when it exits (the supervisor exits by itself after ``max_jobs`` jobs, or when a caller removed its socket after
an anomaly) or when its socket has been gone for a few seconds (a supervisor stuck mid-job). Containers carry the
labels ``rewardgym.managed=true``, ``rewardgym.role=sandbox`` and ``rewardgym.sandbox.owner=<socket dir>``; at
start, containers with the same owner left by an earlier manager are removed.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
import zlib
from dataclasses import dataclass, field

log = logging.getLogger("rewardgym.sandbox.manager")

IMAGE = "rewardgym/sandbox:latest"
# What the supervisor (root in the container) needs, nothing more: setuid/setgid/setgroups to the sandbox uid,
# kill processes of that uid, chown the job dir to it, and remove its files (in its 0700 job dir, and in the
# root-owned sticky /tmp and /dev/shm, which needs no FOWNER). Without any one of them jobs fail (IE or
# leftovers), checked one by one.
CAPABILITIES = ("SETUID", "SETGID", "KILL", "CHOWN", "DAC_OVERRIDE")
MOUNT = "/run/sandbox"


@dataclass
class SandboxOptions:
    image: str = IMAGE
    max_jobs: int = 500  # jobs per container before it is replaced
    memory: str = "2g"  # per container: test memory maximum (1 GB) + tmpfs + the compiler's 2 GB RLIMIT_AS fits
    cpus: float = 1.0
    pids_limit: int = 128  # the supervisor's own limit for the sandbox uid is 64
    work_size: str = "256m"  # tmpfs of the job dirs
    tmp_size: str = "64m"  # /tmp and /dev/shm each
    capabilities: tuple[str, ...] = CAPABILITIES
    socket_owner: str | None = None  # UID[:GID] that may connect (default: root only)
    slot_base: int | None = None  # sandbox uid = 61000 + slot_base + i; default derived from the owner
    extra_labels: dict = field(default_factory=dict)


def forget_connections(client, container) -> None:
    """Close the idle Docker API connections used for ``container`` once it is removed.

    The Docker SDK keeps one HTTP connection pool per request URL (``docker/transport/unixconn.py``, up to 25 per
    client), and a container's id or name is in every URL about it: without this, each replaced container leaves
    its idle connections to the daemon open, and a server whose containers are killed now and then holds dozens.
    Nobody asks about a removed container again, so no request can be using the pools this closes.
    """
    keys = (container.id, container.name)
    for adapter in client.api.adapters.values():
        pools = getattr(adapter, "pools", None)  # the SDK's own adapters; absent in others: nothing to do
        if pools is None:
            continue
        for url in [url for url in pools.keys() if any(key and key in url for key in keys)]:
            pools.pop(url, None)  # urllib3's RecentlyUsedContainer closes the pool it drops


class SandboxManager:
    """Starts, supervises and stops ``slots`` warm sandbox containers serving ``socket_dir``."""

    def __init__(self, slots: int, image: str = IMAGE, socket_dir: str = "/run/rewardgym/sandbox", *,
                 options: SandboxOptions | None = None, client=None, **overrides):
        import docker  # the Docker SDK (installed with rewardgym)

        self.slots = slots
        self.socket_dir = os.path.abspath(socket_dir)
        self.options = options or SandboxOptions(image=image, **overrides)
        self.owner = self.socket_dir
        if self.options.slot_base is None:
            self.options.slot_base = 10_000 + (zlib.crc32(self.owner.encode()) % 1000) * 256
        self.client = client or docker.from_env()
        self._errors = docker.errors
        self._tag = f"{zlib.crc32(self.owner.encode()):08x}"
        self.containers: list = [None] * slots
        self.generation = [0] * slots
        self.replaced = 0
        self._socket_missing_since: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ---- lifecycle --------------------------------------------------------------------------------------
    def start(self, wait_s: float = 60.0) -> SandboxManager:
        os.makedirs(self.socket_dir, exist_ok=True)
        os.chmod(self.socket_dir, 0o700)
        if self.options.socket_owner:
            uid, _, gid = self.options.socket_owner.partition(":")
            os.chown(self.socket_dir, int(uid), int(gid or uid))
        self.remove_leftovers()
        for i in range(self.slots):
            self._start_slot(i)
        self.wait_ready(wait_s)
        return self

    def run_in_background(self, interval_s: float = 0.5) -> SandboxManager:
        self._thread = threading.Thread(target=self.run_forever, args=(interval_s,), name="sandbox-manager",
                                        daemon=True)
        self._thread.start()
        return self

    def run_forever(self, interval_s: float = 0.5) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.check()
            except Exception:  # Docker hiccups: try again next round
                log.exception("supervising the sandbox containers failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(30)
        with self._lock:
            for i, container in enumerate(self.containers):
                if container is not None:
                    self._remove(container)
                    self.containers[i] = None
                self._unlink_socket(i)

    def __enter__(self) -> SandboxManager:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- supervision ------------------------------------------------------------------------------------
    def check(self) -> None:
        """One pass: replace every slot whose container is gone or exited, or whose socket stayed missing."""
        with self._lock:
            if self._stop.is_set():
                return
            for i, container in enumerate(self.containers):
                reason = self._problem(i, container)
                if reason:
                    log.warning("sandbox slot %d: %s; replacing its container", i, reason)
                    if container is not None:
                        self._remove(container)
                    self._unlink_socket(i)
                    self._start_slot(i)
                    self.replaced += 1

    def _problem(self, i: int, container) -> str | None:
        if container is None:
            return "no container"
        try:
            container.reload()
        except self._errors.NotFound:
            return "container removed"
        if container.status not in ("running", "created"):
            return f"container {container.status} (exit code {container.attrs['State'].get('ExitCode')})"
        if os.path.exists(self.socket_path(i)):
            self._socket_missing_since.pop(i, None)
            return None
        since = self._socket_missing_since.setdefault(i, time.monotonic())
        if time.monotonic() - since > 5.0:  # a supervisor exits within 1 s of losing its socket, unless stuck
            return "socket missing for 5 s"
        return None

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not all(os.path.exists(self.socket_path(i)) for i in range(self.slots)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Expected {self.slots} sandbox sockets in {self.socket_dir} within "
                                   f"{timeout_s:g} s; container logs: {self._logs()}")
            time.sleep(0.05)

    def socket_path(self, i: int) -> str:
        return os.path.join(self.socket_dir, f"slot-{i}.sock")

    def remove_leftovers(self) -> int:
        """Remove sandbox containers of this owner (socket dir) left by an earlier manager."""
        old = self.client.containers.list(all=True, filters={"label": [
            "rewardgym.role=sandbox", f"rewardgym.sandbox.owner={self.owner}"]})
        for container in old:
            self._remove(container)
        return len(old)

    # ---- one container ----------------------------------------------------------------------------------
    def docker_run_args(self, i: int) -> dict:
        """Keyword arguments of ``client.containers.run`` for slot ``i`` (the isolation flags, in one place)."""
        o = self.options
        command = ["--socket", f"{MOUNT}/slot-{i}.sock", "--slot", str(o.slot_base + i),
                   "--work-root", "/sandbox/work", "--max-jobs", str(o.max_jobs), "--log-level", "WARNING"]
        if o.socket_owner:
            command += ["--socket-owner", o.socket_owner]
        return dict(
            image=o.image, command=command, detach=True,
            name=f"rewardgym-sandbox-{self._tag}-{i}-{self.generation[i]}",
            labels={"rewardgym.managed": "true", "rewardgym.role": "sandbox",
                    "rewardgym.sandbox.owner": self.owner, "rewardgym.sandbox.slot": str(i), **o.extra_labels},
            network_mode="none", read_only=True,
            tmpfs={"/sandbox": f"rw,exec,nosuid,nodev,size={o.work_size},mode=0711",
                   "/tmp": f"rw,noexec,nosuid,nodev,size={o.tmp_size},mode=1777"},
            shm_size=o.tmp_size, pids_limit=o.pids_limit, mem_limit=o.memory, memswap_limit=o.memory,
            nano_cpus=int(o.cpus * 1e9), cap_drop=["ALL"], cap_add=list(o.capabilities),
            security_opt=["no-new-privileges"], volumes={self.socket_dir: {"bind": MOUNT, "mode": "rw"}},
            log_config={"type": "json-file", "config": {"max-size": "1m"}},
        )

    def _start_slot(self, i: int) -> None:
        self.generation[i] += 1
        self._socket_missing_since[i] = time.monotonic()
        self.containers[i] = self.client.containers.run(**self.docker_run_args(i))

    def _remove(self, container) -> None:
        try:
            container.remove(force=True)
        except self._errors.NotFound:
            pass
        except self._errors.APIError as exc:
            log.warning("removing %s failed: %s", container.name, exc)
        forget_connections(self.client, container)

    def _unlink_socket(self, i: int) -> None:
        try:
            os.unlink(self.socket_path(i))
        except OSError:
            pass

    def _logs(self) -> str:
        out = []
        for c in self.containers:
            if c is not None:
                try:
                    out.append(c.logs(tail=20).decode(errors="replace"))
                except self._errors.APIError:
                    pass
        return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rewardgym_sandboxes.manager", description=__doc__.split("\n\n")[0])
    p.add_argument("--socket-dir", required=True, help="directory of the slots' sockets (the pool's socket_dir)")
    p.add_argument("--slots", type=int, default=os.cpu_count() or 1, help="warm containers (default: one per core)")
    p.add_argument("--image", default=IMAGE)
    p.add_argument("--max-jobs", type=int, default=500)
    p.add_argument("--memory", default="2g")
    p.add_argument("--cpus", type=float, default=1.0)
    p.add_argument("--socket-owner", default=None, help="UID[:GID] that may connect to the sockets")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s sandbox-manager %(message)s")
    manager = SandboxManager(args.slots, args.image, args.socket_dir, max_jobs=args.max_jobs, memory=args.memory,
                             cpus=args.cpus, socket_owner=args.socket_owner)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: manager._stop.set())
    manager.start()
    log.info("%d sandbox containers ready in %s (%s)", args.slots, args.socket_dir, args.image)
    try:
        manager.run_forever()
    finally:
        manager.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
