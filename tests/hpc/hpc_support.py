"""Helpers of the Slurm tests: submitting deploy/slurm/rewardgym.sbatch, finding a job's processes, scoring every
environment's example through a gateway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SBATCH = ROOT / "deploy" / "slurm" / "rewardgym.sbatch"


def write_config(path: Path, families: list[str], *, gateway_port: int, worker_port: int) -> Path:
    lines = [f"gateway_port = {gateway_port}", "gateway_cpus = 1", f"worker_port = {worker_port}",
             "cpus_per_node = 16"]
    for family in families:
        lines += ["", "[[families]]", f'name = "{family}"', "replicas = 1", "processes = 1"]
    path.write_text("\n".join(lines) + "\n")
    return path


def submit(config: Path, job_dir: Path, log: Path) -> str:
    """The job id of the sbatch script, on one node with the machine's CPUs, no Docker (sandboxes under bwrap)."""
    env = {**os.environ, "REWARDGYM_VENV": sys.prefix, "REWARDGYM_SLURM_CONFIG": str(config),
           "REWARDGYM_JOB_DIR": str(job_dir), "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    env.pop("REWARDGYM_SANDBOX_DIR", None)
    done = subprocess.run(["sbatch", "--parsable", "--nodes=1", f"--cpus-per-task={os.cpu_count() or 1}",
                           f"--output={log}", str(SBATCH)], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().split(";")[0]


def wait_for_gateway(job_dir: Path, job_id: str, log: Path, timeout_s: float = 420) -> dict:
    path = job_dir / "gateway.json"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text())
        state = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True).stdout
        if state.strip() in ("", "FAILED", "CANCELLED", "COMPLETED"):
            raise AssertionError(f"job {job_id} ended ({state.strip()}) before writing gateway.json:\n"
                                 f"{log.read_text(errors='replace') if log.exists() else ''}\n{_logs(job_dir)}")
        time.sleep(1)
    raise AssertionError(f"no gateway.json after {timeout_s} s:\n{_logs(job_dir)}")


def _logs(job_dir: Path) -> str:
    logs = sorted((job_dir / "logs").glob("*.log")) if (job_dir / "logs").exists() else []
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs)


def score_every_family(url: str, token: str, items_per_env: int = 8) -> dict[str, list[dict]]:
    """Each single-turn environment's example, ``items_per_env`` times in one request: env -> results."""
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, list[dict]] = {}
    with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
        envs = client.get("/v1/envs").json()["envs"]
        for env in envs:
            if env["kind"] != "single" or not env["example"]:
                continue
            example = env["example"]
            body = {"items": [{"task": example["task"], "completion": example["completion"]}] * items_per_env}
            response = client.post(f"/score/{env['name']}", json=body)
            assert response.status_code == 200, (env["name"], response.text)
            out[env["name"]] = response.json()["results"]
    return out


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def job_processes(job_id: str, job_dir: Path) -> set[tuple[int, str]]:
    """(pid, start time) of every process of the job: those with its SLURM_JOB_ID or its job dir on the command
    line, and all their descendants (sandbox supervisors start with a clean environment)."""
    marker_env = f"SLURM_JOB_ID={job_id}".encode()
    marker_dir = str(job_dir).encode()
    children: dict[int, list[int]] = {}
    roots = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(pid)
        if marker_env in environ or marker_dir in cmdline:
            roots.add(pid)
    found: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    return {(pid, start) for pid in found if (start := _start_time(pid)) is not None}


def still_running(processes: set[tuple[int, str]]) -> set[tuple[int, str]]:
    return {(pid, start) for pid, start in processes if _start_time(pid) == start}


def cancel_and_wait(job_id: str, processes: set[tuple[int, str]], timeout_s: float = 90) -> set[tuple[int, str]]:
    """scancel, then what is left of ``processes`` once the job is gone (empty when it all stopped)."""
    subprocess.run(["scancel", job_id], check=True, timeout=30)
    deadline = time.monotonic() + timeout_s
    left = still_running(processes)
    while time.monotonic() < deadline and left:
        time.sleep(1)
        left = still_running(processes)
    return left
