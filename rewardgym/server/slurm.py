"""`rewardgym slurm launch`: the gateway and the workers of one Slurm job (deploy/slurm/, docs/hpc.md).

Runs inside the allocation (the sbatch script of deploy/slurm/ calls it on the job's first node):

- the gateway on the first node, as an ``srun --overlap`` step, bound to every interface with a client token;
- each family's worker replicas on the other nodes (on the first node too when the job has only one), each an
  ``srun --overlap`` step with ``processes`` CPUs on its node, sharing the nodes with training; at most
  ``cpus_per_node`` CPUs of workers per node;
- a worker joins the gateway (a line in its ``--workers-file``) as soon as its /healthz answers;
- once /readyz says every family is served, ``gateway.json`` (mode 0600: URL and client token) appears in the job
  directory: a trainer in another job reads it there (``rewardgym_client.RewardClient(url, token=...)``).

Everything runs as steps of the job, so ``scancel`` stops all of it on every node. The workers and the gateway run
from the Python that runs this launcher (``python`` in the config to choose another, e.g. a shared venv).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from rewardgym.auth import write_token_file
from rewardgym.server.config import ConfigError as SlurmConfigError
from rewardgym.server.config import read_toml_model

log = logging.getLogger("rewardgym.slurm")

GATEWAY_FILE = "gateway.json"
WORKERS_FILE = "workers.txt"


class FamilyPlan(BaseModel):
    """One family: ``replicas`` workers of ``processes`` scoring processes (= CPUs) each."""

    model_config = ConfigDict(extra="forbid")
    name: str
    replicas: int = Field(1, ge=1)
    processes: int = Field(1, ge=1)


class SlurmConfig(BaseModel):
    """The ``[slurm]`` TOML file (deploy/slurm/rewardgym-slurm.toml)."""

    model_config = ConfigDict(extra="forbid")
    gateway_port: int = Field(8000, ge=1, le=65535)
    gateway_cpus: int = Field(2, ge=1)
    worker_port: int = Field(9100, ge=1, le=65535)
    """Workers on one node listen on worker_port, worker_port + 1, ..."""
    cpus_per_node: int = Field(8, ge=1)
    """CPUs of each node lent to the workers (the rest stays with training)."""
    python: str | None = None
    """The interpreter of the gateway and the workers (a venv on the shared file system); default: this one."""
    unsafe_sandbox: bool = False
    families: list[FamilyPlan]


def load_slurm_config(path: str | Path) -> SlurmConfig:
    config = read_toml_model(path, SlurmConfig)
    if not config.families:
        raise SlurmConfigError(f"Expected at least one [[families]] table in {path}, got none")
    return config


@dataclass(frozen=True)
class Step:
    """One ``srun`` step: what runs, where, on how many CPUs."""

    name: str
    node: str
    cpus: int
    argv: tuple[str, ...]
    url: str | None = None  # a worker's URL (None for the gateway)


def plan_steps(config: SlurmConfig, nodes: list[str], job_dir: str) -> list[Step]:
    """The gateway on ``nodes[0]``; replicas round-robin over the other nodes (all of them when there is one),
    never more than ``cpus_per_node`` worker CPUs on a node."""
    if not nodes:
        raise SlurmConfigError("Expected the job's node list, got none")
    python = config.python or sys.executable
    job = Path(job_dir)
    gateway = Step("gateway", nodes[0], config.gateway_cpus, (
        python, "-m", "rewardgym.cli", "serve", "--runtime", "attached", "--host", "0.0.0.0",
        "--port", str(config.gateway_port), "--workers-file", str(job / WORKERS_FILE),
        "--worker-token-file", str(job / "worker.token"), "--token-file", str(job / "client.token"),
        "--expect-families", ",".join(f.name for f in config.families),
        *(["--unsafe-sandbox"] if config.unsafe_sandbox else [])))
    worker_nodes = nodes[1:] or nodes
    used = {node: 0 for node in worker_nodes}
    ports = {node: config.worker_port for node in worker_nodes}
    steps = [gateway]
    turn = 0
    for family in config.families:
        for replica in range(family.replicas):
            node = worker_nodes[turn % len(worker_nodes)]
            turn += 1
            if used[node] + family.processes > config.cpus_per_node:
                raise SlurmConfigError(
                    f"Expected at most cpus_per_node={config.cpus_per_node} worker CPUs per node, got "
                    f"{used[node] + family.processes} on {node} ({family.name} replica {replica}): lower replicas "
                    f"or processes, or use more nodes")
            used[node] += family.processes
            port = ports[node]
            ports[node] += 1
            steps.append(Step(f"{family.name}-{replica}", node, family.processes, (
                python, "-m", "rewardgym.cli", "worker", "--family", family.name, "--host", "0.0.0.0",
                "--port", str(port), "--token-file", str(job / "worker.token"),
                "--processes", str(family.processes),
                *(["--unsafe-sandbox"] if config.unsafe_sandbox else [])), url=f"http://{node}:{port}"))
    return steps


def srun_argv(step: Step, job_dir: str) -> list[str]:
    """The step as an ``srun`` command: one task on its node, sharing CPUs with the job's other steps."""
    return ["srun", "--overlap", "--nodes=1", "--ntasks=1", f"--nodelist={step.node}", f"--cpus-per-task={step.cpus}",
            f"--job-name=rewardgym-{step.name}", "--kill-on-bad-exit=0",
            f"--output={Path(job_dir) / 'logs' / (step.name + '.log')}", *step.argv]


def job_nodes() -> list[str]:
    """The hostnames of this job's nodes, first node first."""
    nodelist = os.environ.get("SLURM_JOB_NODELIST")
    if not nodelist:
        raise SlurmConfigError("Expected to run inside a Slurm job ($SLURM_JOB_NODELIST), got no job")
    done = subprocess.run(["scontrol", "show", "hostnames", nodelist], capture_output=True, text=True, check=True)
    return done.stdout.split()


class Launcher:
    """Starts the steps, lets workers join as they come up, writes gateway.json, and stays until cancelled."""

    def __init__(self, config: SlurmConfig, job_dir: str, nodes: list[str]):
        self.config = config
        self.job_dir = Path(job_dir)
        self.nodes = nodes
        self.steps = plan_steps(config, nodes, job_dir)
        self.processes: dict[str, subprocess.Popen] = {}
        self.joined: set[str] = set()

    def prepare(self) -> str:
        """The job directory (0700), both tokens, an empty workers file; returns the client token."""
        self.job_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.job_dir, 0o700)
        (self.job_dir / "logs").mkdir(exist_ok=True)
        write_token_file(str(self.job_dir / "worker.token"))
        (self.job_dir / WORKERS_FILE).write_text("")
        (self.job_dir / GATEWAY_FILE).unlink(missing_ok=True)
        return write_token_file(str(self.job_dir / "client.token"))

    def start(self) -> None:
        for step in self.steps:
            log.info("starting %s on %s (%d CPUs)", step.name, step.node, step.cpus)
            self.processes[step.name] = subprocess.Popen(srun_argv(step, str(self.job_dir)),
                                                         stdin=subprocess.DEVNULL)

    def gateway_url(self) -> str:
        return f"http://{self.nodes[0]}:{self.config.gateway_port}"

    def admit_ready_workers(self) -> None:
        """Add to the workers file every worker whose /healthz answers (the gateway re-reads the file)."""
        fresh = [s for s in self.steps if s.url and s.url not in self.joined and _answers(s.url + "/healthz")]
        if not fresh:
            return
        self.joined.update(s.url for s in fresh)
        tmp = self.job_dir / (WORKERS_FILE + ".tmp")
        tmp.write_text("".join(f"{url}\n" for url in sorted(self.joined)))
        os.replace(tmp, self.job_dir / WORKERS_FILE)
        log.info("workers joined: %s", ", ".join(s.name for s in fresh))

    def write_gateway_file(self, token: str) -> Path:
        """gateway.json, mode 0600, written whole (a reader never sees half of it)."""
        path = self.job_dir / GATEWAY_FILE
        tmp = self.job_dir / (GATEWAY_FILE + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"url": self.gateway_url(), "token": token, "token_file": str(self.job_dir / "client.token"),
                       "job_id": os.environ.get("SLURM_JOB_ID"), "nodes": self.nodes,
                       "workers": [s.url for s in self.steps if s.url]}, handle)
        os.replace(tmp, path)
        return path

    def run(self, ready_timeout_s: float = 600.0) -> int:
        token = self.prepare()
        self.start()
        deadline = time.monotonic() + ready_timeout_s
        written = False
        while True:
            gateway = self.processes["gateway"]
            if gateway.poll() is not None:
                log.error("the gateway step exited with %s (see %s)", gateway.returncode, self.job_dir / "logs")
                return 1
            self.admit_ready_workers()
            if not written and _answers(self.gateway_url() + "/readyz", token):
                written = True
                log.info("gateway ready at %s: %s", self.gateway_url(), self.write_gateway_file(token))
            if not written and time.monotonic() > deadline:
                log.error("the gateway was not ready after %.0f s (see %s)", ready_timeout_s, self.job_dir / "logs")
                return 1
            time.sleep(0.5 if len(self.joined) < len(self.steps) - 1 or not written else 5.0)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # srun forwards it to its step
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def _answers(url: str, token: str | None = None) -> bool:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def launch(config_path: str, job_dir: str) -> int:
    """`rewardgym slurm launch`: until cancelled (SIGTERM from scancel: the steps are stopped too)."""
    config = load_slurm_config(config_path)
    launcher = Launcher(config, job_dir, job_nodes())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        return launcher.run()
    finally:
        launcher.stop()
