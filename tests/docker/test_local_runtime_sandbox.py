"""`rewardgym serve` (local runtime) with Docker: the code family's programs run in hardened warm containers,
the choice is logged once, and the containers go away with the server."""

from __future__ import annotations

import json
import os

import psutil
import pytest

from tests.conftest import start_server, stop_server
from tests.docker.test_images import docker

pytestmark = pytest.mark.docker

ADD = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
TASK = {"tests": [{"input": "2 3\n", "output": "5\n"}, {"input": "10 -4\n", "output": "6\n"}]}


def sandbox_containers() -> list[str]:
    return docker("ps", "-q", "--filter", "label=rewardgym.role=sandbox").stdout.split()


def owned_by(server, containers: list[str]) -> list[str]:
    """Those of `containers` that `server`'s code worker started: their owner label is under the directory of
    that worker's socket (other sessions on the same daemon start sandbox containers of their own meanwhile)."""
    tree = psutil.Process(server.process.pid).children(recursive=True)
    worker = next(p for p in tree if "--socket" in p.cmdline() and "code" in p.cmdline())
    directory = os.path.dirname(worker.cmdline()[worker.cmdline().index("--socket") + 1])
    owners = {c: json.loads(docker("inspect", c).stdout)[0]["Config"]["Labels"].get("rewardgym.sandbox.owner", "")
              for c in containers}
    return [c for c, owner in owners.items() if owner.startswith(directory + os.sep)]


def test_code_family_uses_hardened_sandbox_containers(built_images, tmp_path):
    before = set(sandbox_containers())
    server = start_server(tmp_path, "--families", "code", "--processes", "2", ready_timeout=180)
    try:
        ours = owned_by(server, [c for c in sandbox_containers() if c not in before])
        assert len(ours) == 2, server.log()
        assert server.log().count("warm container slot(s)") == 1
        for container in ours:
            config = json.loads(docker("inspect", container).stdout)[0]["HostConfig"]
            assert config["NetworkMode"] == "none" and config["ReadonlyRootfs"] is True
            assert config["CapDrop"] == ["ALL"] and "no-new-privileges" in config["SecurityOpt"]
            assert config["PidsLimit"] > 0 and config["Memory"] > 0
        with server.client() as http:
            right = http.post("/score/python_stdio", json={"task": TASK, "completion": ADD}).json()
            assert (right["status"], right["reward"]) == ("ok", 1.0), right
            wrong = http.post("/score/python_stdio", json={"task": TASK, "completion": ADD.replace("+", "-")}).json()
            assert (wrong["status"], wrong["reward"], wrong["details"]["verdict"]) == ("ok", 0.0, "WA")
            loop = http.post("/score/python_stdio", json={"task": TASK, "completion": "while True: pass"}).json()
            assert (loop["reward"], loop["details"]["verdict"]) == (0.0, "TLE")
    finally:
        stop_server(server)
    assert not set(ours) & set(sandbox_containers()), "sandbox containers left after the server stopped"
