"""A real gateway hosting the code family with no Docker: sandboxes under bwrap, shown in /v1/envs and /readyz; a
program that walks the file system for its test's answer file (the issue's finding) does not find it; without bwrap
every code item is `error` with how to enable isolation, unless the operator passes --unsafe-sandbox."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest

from tests.conftest import start_server, stop_server

SUM_TASK = {"tests": [{"input": "3\n1 2 3\n", "output": "6\n"}, {"input": "1\n-5\n", "output": "-5\n"}]}
SUM_PROGRAM = "```python\nimport sys\nn, *xs = map(int, sys.stdin.read().split())\nprint(sum(xs[:n]))\n```"
CHEAT = """```python
import os, sys
data = sys.stdin.read()
for top, dirs, files in os.walk('/'):
    if top.startswith(('/proc', '/sys', '/usr')):
        dirs[:] = []
        continue
    for name in files:
        if name.startswith('rg-answers-'):
            lines = open(os.path.join(top, name)).read().split('|')
            for line in lines:
                question, _, answer = line.partition('=')
                if question == data:
                    print(answer, end='')
                    sys.exit(0)
print('not found')
```"""


def _no_docker(monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")  # the local fallback, as on a cluster
    monkeypatch.delenv("REWARDGYM_SANDBOX_DIR", raising=False)


def _score(server, completion: str, task: dict = SUM_TASK) -> dict:
    with server.client() as client:
        response = client.post("/score/python_stdio", json={"task": task, "completion": completion})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.bwrap
def test_code_runs_under_bwrap_and_cannot_find_the_answers(tmp_path, monkeypatch):
    _no_docker(monkeypatch)
    answers = tmp_path / f"rg-answers-{secrets.token_hex(4)}"
    answers.write_text("3\n1 2 3\n=6\n|1\n-5\n=-5\n")
    answers.chmod(0o644)
    server = start_server(tmp_path, "--families", "code", "--processes", "1")
    try:
        with server.client() as client:
            envs = {e["name"]: e for e in client.get("/v1/envs").json()["envs"]}
            ready = client.get("/readyz").json()
        assert envs["python_stdio"]["isolation"].startswith("sandbox: bwrap"), envs["python_stdio"]
        assert ready["isolation"]["cpp_stdio"] == envs["python_stdio"]["isolation"], ready
        assert _score(server, SUM_PROGRAM)["reward"] == 1.0
        cheat = _score(server, CHEAT)
        assert (cheat["status"], cheat["reward"]) == ("ok", 0.0), cheat
    finally:
        stop_server(server)


def _path_without_bwrap(tmp_path: Path) -> str:
    """A PATH holding the toolchains and nothing else (no bwrap)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("python3", "g++", "gcc", "cc1", "node", "sqlite3"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


@pytest.mark.parametrize("unsafe", [False, True], ids=["refused", "unsafe-sandbox"])
def test_without_bwrap_code_is_refused_unless_unsafe(tmp_path, monkeypatch, unsafe):
    _no_docker(monkeypatch)
    monkeypatch.setenv("PATH", _path_without_bwrap(tmp_path))
    server = start_server(tmp_path, "--families", "code", "--processes", "1",
                          *(["--unsafe-sandbox"] if unsafe else []))
    try:
        with server.client() as client:
            isolation = client.get("/v1/envs/python_stdio").json()["isolation"]
        result = _score(server, SUM_PROGRAM)
        log = server.log()
    finally:
        stop_server(server)
    if unsafe:
        assert isolation.startswith("UNSAFE"), isolation
        assert (result["status"], result["reward"]) == ("ok", 1.0), result
        assert "--unsafe-sandbox" in log
    else:
        assert isolation.startswith("sandbox refused"), isolation
        assert (result["status"], result["reward"]) == ("error", None), result
        message = result["details"]["message"]
        assert "bubblewrap" in message and "--unsafe-sandbox" in message, message
        assert "sandbox refused" in log  # said at start, not only per item
    assert os.environ["PATH"] != ""  # monkeypatch restores it
