"""The games image: its games run offline (word lists shipped in the wheel), a game replayed inside the image is the
same game as on the host, and the Docker runtime serves the same tasks, scores and sessions as the local one."""

from __future__ import annotations

import json
import uuid

import pytest

from rewardgym_games import FAMILY
from tests.conftest import start_server, stop_server
from tests.docker.test_docker_runtime import our_containers
from tests.docker.test_images import run_offline

pytestmark = pytest.mark.docker

SCRIPT = """
import json
from rewardgym_games import FAMILY
out = {}
for name, env in sorted(FAMILY.instantiate().items()):
    actions, _ = env.play_expert(5, env.Options(difficulty="hard"))
    episode = env.replay(5, {"difficulty": "hard"}, actions)
    out[name] = [actions, episode.observation, episode.total_reward]
print(json.dumps(out))
"""


def test_games_image_replays_the_same_games_as_the_host(built_images: list[str]) -> None:
    inside = json.loads(run_offline("rewardgym/games:latest", "python", "-c", SCRIPT))
    envs = FAMILY.instantiate()
    assert set(inside) == set(envs)
    for name, (actions, observation, reward) in inside.items():
        episode = envs[name].replay(5, {"difficulty": "hard"}, actions)
        assert (episode.observation, episode.total_reward) == (observation, reward), name


def test_games_docker_runtime_matches_the_local_runtime(built_images: list[str], tmp_path) -> None:
    """Every game through the Docker runtime and the local one: the same generated tasks, the same transcript
    scores (won, careless, empty), and a session played move by move in the container ends with the same reward
    as the transcript scored whole."""
    owner = f"pytest-{uuid.uuid4().hex[:8]}"
    in_docker = start_server(tmp_path, "--runtime", "docker", "--image", "rewardgym/games:latest", "--owner", owner,
                             "--admin-token", "test-admin-token", ready_timeout=180)
    local = start_server(tmp_path, "--families", "games", "--processes", "2")
    try:
        with in_docker.client(timeout=120) as docker_http, local.client(timeout=120) as local_http:
            envs = local_http.get("/v1/envs").json()["envs"]
            assert {e["name"] for e in envs} == set(FAMILY.instantiate())
            assert {e["name"] for e in envs} == {e["name"] for e in docker_http.get("/v1/envs").json()["envs"]}
            for env in envs:
                request = {"n": 2, "seed": 11, "options": {"difficulty": "hard"}}
                tasks = local_http.post(f"/v1/envs/{env['name']}/tasks", json=request).json()["tasks"]
                assert tasks == docker_http.post(f"/v1/envs/{env['name']}/tasks", json=request).json()["tasks"]
                example = env["example"]
                actions = json.loads(example["completion"])
                careless = "\n".join(["?!", *actions[:1], "?!", "?!"])
                body = {"groups": [{"task": example["task"], "completions": [example["completion"], careless, ""]}]}
                keys = []
                for http in (local_http, docker_http):
                    results = http.post(f"/score/{env['name']}", json=body).json()["groups"][0]["results"]
                    keys.append([(r["status"], r["reward"], r["details"].get("actions_played")) for r in results])
                assert keys[0] == keys[1], env["name"]
                assert keys[0][0][:2] == ("ok", 1.0) and keys[0][2][:2] == ("no_answer", 0.0), env["name"]
                session = docker_http.post(f"/v1/envs/{env['name']}/sessions", json=example["task"]).json()
                total = 0.0
                for turn, action in enumerate(actions):
                    step = docker_http.post(f"/v1/sessions/{session['session_id']}/step",
                                            json={"action": action, "request_id": f"t{turn}"}).json()
                    total += step["reward"]
                assert step["terminated"] and round(total, 9) == 1.0, env["name"]
                docker_http.delete(f"/v1/sessions/{session['session_id']}")
    finally:
        stop_server(local)
        stop_server(in_docker)
    assert our_containers(owner) == []
