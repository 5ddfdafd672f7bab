"""`docker-compose.yml` brought up for real (Debian's docker-compose v1, or compose v2 where installed):
the gateway finds every family's worker through the shared socket volume, and one item per family scores."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import httpx
import pytest

from tests.conftest import free_port
from tests.docker.conftest import FAMILIES, ROOT

pytestmark = pytest.mark.docker


def compose_command() -> list[str]:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("neither `docker compose` nor `docker-compose` is installed (scripts/docker-up.sh installs v1)")


def test_compose_up_scores_one_item_per_family_and_comes_down(built_images):
    port = free_port()
    env = {**os.environ, "COMPOSE_PROJECT_NAME": f"rgtest{uuid.uuid4().hex[:6]}", "REWARDGYM_PORT": str(port)}
    compose = [*compose_command(), "-f", str(ROOT / "docker-compose.yml")]
    started = time.monotonic()
    subprocess.run([*compose, "up", "-d"], check=True, capture_output=True, env=env, timeout=300)
    try:
        url = f"http://127.0.0.1:{port}"
        envs: list[dict] = []
        while {e["family"] for e in envs} != set(FAMILIES):
            assert time.monotonic() - started < 180, f"families seen: {envs}"
            time.sleep(0.2)
            try:
                envs = [e for e in httpx.get(url + "/v1/envs", timeout=5).json()["envs"] if e["status"] == "ready"]
            except httpx.TransportError:
                pass
        for family in FAMILIES:
            entry = next(e for e in envs if e["family"] == family)
            answer = httpx.post(f"{url}/score/{entry['name']}", json=entry["example"], timeout=120).json()
            assert (answer["status"], answer["reward"]) == ("ok", 1.0), answer
    finally:
        subprocess.run([*compose, "down", "-v"], check=True, capture_output=True, env=env, timeout=300)
    left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={env['COMPOSE_PROJECT_NAME']}"],
                          capture_output=True, text=True).stdout
    assert left.strip() == ""
