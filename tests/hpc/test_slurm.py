"""The sbatch script of deploy/slurm/ on a real (one-node) Slurm cluster: the gateway and one worker per installed
family come up as job steps, gateway.json appears in the job dir, a batch of every environment is scored through
the gateway with its token, and after scancel no process of the job is left."""

from __future__ import annotations

import random

import httpx
import pytest

from hpc_support import (
    cancel_and_wait,
    job_processes,
    score_every_family,
    submit,
    wait_for_gateway,
    write_config,
)
from rewardgym.registry import installed_family_names

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


def test_sbatch_serves_every_family_and_scancel_leaves_nothing(tmp_path):
    families = installed_family_names()
    port = random.randrange(20000, 40000, 100)
    config = write_config(tmp_path / "slurm.toml", families, gateway_port=port, worker_port=port + 1)
    job_dir = tmp_path / "job"
    log = tmp_path / "sbatch.out"
    job_id = submit(config, job_dir, log)
    processes: set = set()
    try:
        gateway = wait_for_gateway(job_dir, job_id, log)
        assert (job_dir / "gateway.json").stat().st_mode & 0o077 == 0
        assert gateway["job_id"] == job_id and gateway["url"].endswith(f":{port}")
        assert httpx.get(gateway["url"] + "/v1/envs", timeout=30).status_code == 401  # no token, no service
        results = score_every_family(gateway["url"], gateway["token"])
        with httpx.Client(headers={"Authorization": f"Bearer {gateway['token']}"}, timeout=30) as client:
            envs = client.get(gateway["url"] + "/v1/envs").json()["envs"]
            ready = client.get(gateway["url"] + "/readyz").json()
        processes = job_processes(job_id, job_dir)
    finally:
        left = cancel_and_wait(job_id, processes)
    assert {env["family"] for env in envs} == set(families)
    assert set(results) == {env["name"] for env in envs if env["kind"] == "single" and env["example"]}
    for env, items in results.items():
        statuses = {item["status"] for item in items}
        assert len(items) == 8 and statuses <= {"ok", "no_answer"}, (env, items[0])
    code_isolation = [env["isolation"] for env in envs if env["family"] == "code"]
    assert code_isolation and all(i.startswith("sandbox: bwrap") for i in code_isolation), code_isolation
    assert ready["ready"] is True
    assert len(processes) > 2 * len(families)  # the gateway, the workers, their scoring processes, srun steps
    assert left == set(), f"processes of job {job_id} left after scancel: {sorted(left)}"
