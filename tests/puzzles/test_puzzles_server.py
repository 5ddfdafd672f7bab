"""The puzzles family behind a real gateway: tasks from the generator, groups scored, statuses over HTTP."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.conftest import RunningServer, start_server, stop_server


@pytest.fixture(scope="module")
def puzzles_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("puzzles"), "--families", "puzzles", "--processes", "2",
                          ready_timeout=180)
    yield server
    stop_server(server)


def test_catalogue_lists_every_served_dataset(puzzles_server: RunningServer) -> None:
    with puzzles_server.client() as http:
        envs = [env for env in http.get("/v1/envs").json()["envs"] if env["family"] == "puzzles"]
        assert len(envs) == 97 and all(env["name"].startswith("rg_") for env in envs)
        sudoku = http.get("/v1/envs/rg_sudoku").json()
        assert sudoku["generates_tasks"] and "reasoning-gym" in sudoku["description"]


def test_generated_tasks_score_through_groups(puzzles_server: RunningServer) -> None:
    with puzzles_server.client() as http:
        request = {"n": 3, "seed": 11, "options": {"difficulty": "hard"}}
        answer = http.post("/v1/envs/rg_mini_sudoku/tasks", json=request)
        assert answer.status_code == 200, answer.text
        tasks = answer.json()["tasks"]
        again = http.post("/v1/envs/rg_mini_sudoku/tasks", json=request)
        assert again.json()["tasks"] == tasks
        groups = []
        for index, generated in enumerate(tasks):
            solution = "\n".join(" ".join(str(x) for x in row) for row in generated["task"]["metadata"]["solution"])
            groups.append({"id": str(index), "task": generated["task"],
                           "completions": [f"<answer>{solution}</answer>", "no idea", "<answer>1 2\n3 4</answer>"]})
        scored = http.post("/score/rg_mini_sudoku", json={"groups": groups})
        assert scored.status_code == 200, scored.text
        for group in scored.json()["groups"]:
            right, missing, wrong = group["results"]
            assert (right["status"], right["reward"]) == ("ok", 1.0)
            assert (missing["status"], missing["reward"]) == ("no_answer", 0.0)
            assert wrong["status"] == "ok" and wrong["reward"] < 1.0
            assert right["env_version"].endswith("reasoning-gym.0.1.25")


def test_unserved_difficulty_and_foreign_task_are_refused(puzzles_server: RunningServer) -> None:
    with puzzles_server.client() as http:
        refused = http.post("/v1/envs/rg_jugs/tasks", json={"n": 1, "seed": 0, "options": {"difficulty": "hard"}})
        assert refused.status_code == 422
        task = http.get("/v1/envs/rg_chain_sum").json()["example"]["task"]
        item = {"task": task, "completion": "<answer>1</answer>"}
        result = http.post("/score/rg_basic_arithmetic", json={"items": [item]})
        assert result.json()["results"][0]["status"] == "invalid_task"


def test_a_raising_scorer_is_error_with_null_reward(puzzles_server: RunningServer) -> None:
    with puzzles_server.client() as http:
        task = http.get("/v1/envs/rg_countdown").json()["example"]["task"]
        task["metadata"] = {}  # the scorer reads metadata["numbers"]: KeyError in the scoring process
        item = {"task": task, "completion": "<answer>1+2</answer>"}
        result = http.post("/score/rg_countdown", json={"items": [item]})
        (item,) = result.json()["results"]
        assert item["status"] == "error" and item["reward"] is None and "KeyError" in item["details"]["message"]
