"""The launcher's plan, without Slurm: the seed's 17-node layout from deploy/slurm/rewardgym-slurm.toml."""

from __future__ import annotations

from collections import Counter

import pytest

from rewardgym.server.slurm import SlurmConfigError, load_slurm_config, plan_steps, srun_argv
from tests.conftest import ROOT

NODES = ["orch"] + [f"train{i:02d}" for i in range(16)]


def test_the_seed_layout_fills_each_training_node_to_its_cpus():
    config = load_slurm_config(ROOT / "deploy" / "slurm" / "rewardgym-slurm.toml")
    steps = plan_steps(config, NODES, "/shared/job")
    gateway, workers = steps[0], steps[1:]
    assert (gateway.name, gateway.node, gateway.url) == ("gateway", "orch", None)
    assert "--workers-file" in gateway.argv and "--token-file" in gateway.argv
    assert len(workers) == sum(f.replicas for f in config.families)
    cpus = Counter()
    for step in workers:
        cpus[step.node] += step.cpus
    assert set(cpus) == set(NODES[1:]) and max(cpus.values()) <= config.cpus_per_node
    assert len({step.url for step in workers}) == len(workers)  # no two workers on one port of one node
    argv = srun_argv(workers[0], "/shared/job")
    assert argv[:2] == ["srun", "--overlap"] and "--nodelist=train00" in argv


def test_more_worker_cpus_than_a_node_lends_is_refused(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('cpus_per_node = 2\n[[families]]\nname = "math"\nreplicas = 3\nprocesses = 2\n')
    with pytest.raises(SlurmConfigError, match="Expected at most cpus_per_node=2"):
        plan_steps(load_slurm_config(path), ["a", "b", "c"], "/job")
    path.write_text('cpus_per_node = 2\nfamilies = []\n')
    with pytest.raises(SlurmConfigError, match="at least one"):
        load_slurm_config(path)


def test_a_one_node_job_runs_workers_beside_the_gateway(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[[families]]\nname = "math"\nreplicas = 2\n')
    steps = plan_steps(load_slurm_config(path), ["only"], "/job")
    assert {s.node for s in steps} == {"only"} and [s.url for s in steps[1:]] == ["http://only:9100",
                                                                                   "http://only:9101"]
