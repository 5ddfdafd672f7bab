"""The bio family in its container: Biopython offline in the image, and the Docker runtime gives the same tasks and
the same scores as the local runtime for every bio environment."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import start_server, stop_server
from tests.docker.test_docker_runtime import our_containers
from tests.docker.test_images import run_offline

pytestmark = pytest.mark.docker

BIO_IMAGE = "rewardgym/bio:latest"


def test_bio_image_has_the_pinned_biopython_offline(built_images: list[str]) -> None:
    out = run_offline(BIO_IMAGE, "python", "-c", "import Bio, rewardgym_bio; print(Bio.__version__, "
                      "len(rewardgym_bio.FAMILY.environments))")
    assert out.split() == ["1.88", "16"]


def test_bio_docker_runtime_matches_the_local_runtime(built_images: list[str], tmp_path) -> None:
    owner = f"pytest-{uuid.uuid4().hex[:8]}"
    in_docker = start_server(tmp_path, "--runtime", "docker", "--image", BIO_IMAGE, "--owner", owner,
                             "--admin-token", "test-admin-token", ready_timeout=180)
    local = start_server(tmp_path, "--families", "bio", "--processes", "2")
    try:
        with in_docker.client(timeout=120) as docker_http, local.client(timeout=120) as local_http:
            envs = local_http.get("/v1/envs").json()["envs"]
            assert len(envs) == 16
            assert {e["name"] for e in envs} == {e["name"] for e in docker_http.get("/v1/envs").json()["envs"]}
            for env in envs:
                request = {"n": 3, "seed": 11, "options": {"difficulty": "easy"}}
                tasks = local_http.post(f"/v1/envs/{env['name']}/tasks", json=request).json()["tasks"]
                assert tasks == docker_http.post(f"/v1/envs/{env['name']}/tasks", json=request).json()["tasks"]
                example = env["example"]
                body = {"groups": [{"task": example["task"],
                                    "completions": [example["completion"], "I give up.", "<answer>42</answer>", ""]}]}
                keys = []
                for http in (local_http, docker_http):
                    results = http.post(f"/score/{env['name']}", json=body).json()["groups"][0]["results"]
                    keys.append([(r["status"], r["reward"], r["components"]) for r in results])
                assert keys[0] == keys[1], env["name"]
                assert keys[0][0][:2] == ("ok", 1.0) and keys[0][1][:2] == ("no_answer", 0.0), env["name"]
    finally:
        stop_server(local)
        stop_server(in_docker)
    assert our_containers(owner) == []
