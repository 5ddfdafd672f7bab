"""The games family behind today's gateway, unchanged: catalogue `multi`, generated tasks, transcripts scored by
replay in the worker's scoring processes with the same reward as playing them step by step here."""

from __future__ import annotations

from typing import Iterator

import pytest

from rewardgym.multiturn import format_actions
from rewardgym_games import FAMILY
from tests.conftest import RunningServer, start_server, stop_server

ENVS = FAMILY.instantiate()


@pytest.fixture(scope="module")
def games_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("games"), "--families", "games", "--processes", "2")
    yield server
    stop_server(server)


def test_catalogue_lists_every_game_as_multi(games_server):
    with games_server.client() as client:
        envs = {e["name"]: e for e in client.get("/v1/envs").json()["envs"] if e["family"] == "games"}
    assert set(envs) == set(ENVS)
    assert all(e["kind"] == "multi" and e["generates_tasks"] for e in envs.values())


@pytest.mark.parametrize("name", sorted(ENVS))
def test_generated_tasks_and_transcripts_score_through_the_gateway(games_server, name):
    env = ENVS[name]
    with games_server.client() as client:
        response = client.post(f"/v1/envs/{name}/tasks", json={"n": 2, "seed": 1, "options": {"difficulty": "easy"}})
        assert response.status_code == 200, response.text
        tasks = [t["task"] for t in response.json()["tasks"]]
        groups = []
        for task in tasks:
            expert, _ = env.play_expert(task["seed"], env.Options(**task["options"]))
            careless = ["?!", *expert[:2], "?!", "?!"]
            groups.append({"task": task, "completions": [format_actions(expert), "\n".join(careless), ""]})
        body = client.post(f"/score/{name}", json={"groups": groups}).json()
    for group, result in zip(groups, body["groups"]):
        won, careless, empty = result["results"]
        assert (won["status"], won["reward"]) == ("ok", 1.0)
        local = env.score(env.parse_task(group["task"]), group["completions"][1])
        assert (careless["status"], careless["reward"]) == ("ok", local.reward)
        assert careless["details"]["actions_played"] == local.details["actions_played"]
        assert (empty["status"], empty["reward"]) == ("no_answer", 0.0)


def test_bad_tasks_are_invalid_task_never_zero(games_server):
    with games_server.client() as client:
        single = client.post("/score/wordle", json={"task": {"seed": -1}, "completion": "CRANE"})
        batch = client.post("/score/taxi", json={"items": [
            {"task": {"seed": 3, "options": {"difficulty": "brutal"}}, "completion": "north"},
            {"task": {"seed": 3}, "completion": "north"}]}).json()["results"]
    assert single.status_code == 422
    assert (batch[0]["status"], batch[0]["reward"]) == ("invalid_task", None)
    assert (batch[1]["status"], batch[1]["reward"]) == ("ok", 0.0)
