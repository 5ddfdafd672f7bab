"""The bio family behind a real gateway (local runtime): generated tasks scored by group, invalid tasks reported as
invalid_task with a null reward (422 for a single item), garbage as no_answer, and pathological completions bounded."""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from tests.conftest import RunningServer, start_server, stop_server

DEADLINE_S = 5.0


@pytest.fixture(scope="module")
def bio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("bio"), "--families", "bio", "--processes", "2")
    yield server
    stop_server(server)


def test_every_bio_environment_generates_and_scores_groups_through_the_gateway(bio_server: RunningServer) -> None:
    with bio_server.client(timeout=120) as http:
        envs = [e for e in http.get("/v1/envs").json()["envs"] if e["family"] == "bio"]
        assert len(envs) == 16 and all(e["generates_tasks"] for e in envs)
        for env in envs:
            tasks = http.post(f"/v1/envs/{env['name']}/tasks", json={"n": 2, "seed": 5}).json()["tasks"]
            assert len(tasks) == 2 and tasks[0]["prompt"] != tasks[1]["prompt"]
            body = {"groups": [{"id": f"g{i}", "task": t["task"],
                                "completions": [env["example"]["completion"], "no idea", ""]}
                               for i, t in enumerate(tasks)]}
            groups = http.post(f"/score/{env['name']}", json=body).json()["groups"]
            assert [g["id"] for g in groups] == ["g0", "g1"]
            for group in groups:
                statuses = [r["status"] for r in group["results"]]
                assert statuses[1:] == ["no_answer", "no_answer"], (env["name"], group)
                assert all(r["env"] == env["name"] and r["env_version"] == "1.0.0" for r in group["results"])
            example = http.post(f"/score/{env['name']}", json=env["example"]).json()
            assert (example["status"], example["reward"]) == ("ok", 1.0), example


def test_bad_tasks_are_invalid_task_with_null_reward_never_zero(bio_server: RunningServer) -> None:
    with bio_server.client() as http:
        bad = {"sequence": "ACGTNNX", "operation": "reverse_complement"}
        single = http.post("/score/dna_revcomp", json={"task": bad, "completion": "<answer>ACGT</answer>"})
        assert single.status_code == 422 and "A, C, G, T only" in single.text
        batch = http.post("/score/restriction_digest", json={"items": [
            {"task": {"sequence": "ACGTACGT", "enzymes": ["NotAnEnzymeI"], "topology": "linear",
                      "report": "cut_positions"}, "completion": "<answer>none</answer>"},
            {"task": {"sequence": "ACGTACGT", "enzymes": ["EcoRI"], "topology": "linear",
                      "report": "cut_positions"}, "completion": "<answer>none</answer>"},
            {"task": {"sequence": "ACGT", "enzymes": ["EcoRI"], "topology": "sideways",
                      "report": "cut_positions"}, "completion": "<answer>none</answer>"},
        ]}).json()["results"]
        assert [(r["status"], r["reward"]) for r in batch] == [("invalid_task", None), ("ok", 1.0),
                                                               ("invalid_task", None)]
        assert "REBASE" in batch[0]["details"]["message"]


@pytest.mark.parametrize("completion", [
    "x" * 1_000_000 + "<answer>ACGT</answer>",
    "\\boxed{" * 100_000,
    "<answer>" + "7" * 1_000_000 + "</answer>",
    "<answer>" + "(" * 50_000 + ")" * 50_000 + ";</answer>",
    "<answer>\x00ACGT\x00</answer>",
])
def test_pathological_completions_are_bounded_and_the_server_keeps_serving(bio_server: RunningServer,
                                                                           completion: str) -> None:
    with bio_server.client() as http:
        for env in ("dna_revcomp", "phylogeny", "alignment", "orf_finder"):
            task = http.post(f"/v1/envs/{env}/tasks", json={"n": 1, "seed": 1}).json()["tasks"][0]["task"]
            started = time.monotonic()
            result = http.post(f"/score/{env}", json={"task": task, "completion": completion,
                                                      "timeout_s": DEADLINE_S}).json()
            assert time.monotonic() - started < DEADLINE_S + 2
            assert result["status"] in ("ok", "no_answer") and result["reward"] in (0.0, 1.0), (env, result)
