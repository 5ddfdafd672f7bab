"""The code family behind a real gateway: a GRPO group of G completions of one task, scored in request order
(the sandbox is the pool's local fallback)."""

from __future__ import annotations

import importlib

import pytest
from code_support import fenced

from tests.conftest import start_server, stop_server

importlib.import_module("rewardgym_code")  # in this repository: missing must fail, never skip


@pytest.fixture(scope="module")
def code_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("code"), "--families", "code", "--processes", "2")
    yield server
    stop_server(server)


TASK = {"tests": [{"input": "3\n", "output": "9\n"}, {"input": "-2\n", "output": "4\n"},
                  {"input": "0\n", "output": "0\n"}], "partial": True, "time_limit_s": 0.5}
GROUP = [  # (completion, reward, status, verdict)
    (fenced("python", "x = int(input())\nprint(x * x)"), 1.0, "ok", "AC"),
    (fenced("python", "x = int(input())\nprint(x * 3)"), 2 / 3, "ok", "WA"),  # 3 -> 9 and 0 -> 0 only
    ("no code at all? then this text is the program", 0.0, "ok", "CE"),
    ("", 0.0, "no_answer", None),
    (fenced("python", "while True:\n    pass"), 0.0, "ok", "TLE"),
    (fenced("python", "x = int(input())\nprint(abs(x) * x)"), 2 / 3, "ok", "WA"),  # -2 -> -4
    ("x = int(input())\nprint(x ** 2)\n", 1.0, "ok", "AC"),
    (fenced("python", "raise SystemExit(1)"), 0.0, "ok", "RE"),
]


def test_a_group_is_scored_in_request_order(code_server):
    completions = [completion for completion, *_ in GROUP]
    with code_server.client(timeout=120) as http:
        answer = http.post("/score/python_stdio", json={"groups": [
            {"id": "g1", "task": TASK, "completions": completions},
            {"id": "g2", "task": TASK, "completions": list(reversed(completions))},
        ]})
    assert answer.status_code == 200, answer.text
    groups = answer.json()["groups"]
    assert [group["id"] for group in groups] == ["g1", "g2"]
    for group, expected in zip(groups, (GROUP, list(reversed(GROUP)))):
        got = [(r["reward"], r["status"], r["details"].get("verdict")) for r in group["results"]]
        assert got == [(pytest.approx(reward), status, verdict) for _, reward, status, verdict in expected], got
        assert all(r["env"] == "python_stdio" and r["env_version"] == "1.0.0" for r in group["results"])


def test_every_code_environment_is_served(code_server):
    with code_server.client() as http:
        names = {env["name"] for env in http.get("/v1/envs").json()["envs"]}
        assert {"python_function", "python_stdio", "cpp_stdio", "c_stdio", "javascript_stdio", "sql"} <= names
        single = http.post("/score/sql", json={
            "task": {"database": "CREATE TABLE t(a); INSERT INTO t VALUES (1), (2);", "expected_rows": [[3]]},
            "completion": "```sql\nSELECT SUM(a) FROM t;\n```"}).json()
        assert (single["reward"], single["status"]) == (1.0, "ok")
        invalid = http.post("/score/cpp_stdio", json={"items": [
            {"task": {**TASK, "time_limit_s": 60}, "completion": "int main() {}"}]}).json()["results"][0]
        assert (invalid["status"], invalid["reward"]) == ("invalid_task", None)
