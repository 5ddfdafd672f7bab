"""The `rewardgym` command, run as a user would (a subprocess), without a server and against one."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT


def rewardgym(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "rewardgym.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120)


def test_envs_lists_installed_environments_as_a_table():
    out = rewardgym("envs")
    assert out.returncode == 0, out.stderr
    header, *rows = out.stdout.splitlines()
    assert header.split()[:3] == ["ENV", "FAMILY", "VERSION"]
    assert any(row.split()[0] == "gsm8k" for row in rows)


def test_score_locally_with_completion_from_stdin():
    out = rewardgym("score", "gsm8k", "--task", '{"answer": "18"}', "--completion", "-",
                    stdin="She earns $18 a day.\n#### 18")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert (result["status"], result["reward"], result["env"]) == ("ok", 1.0, "gsm8k")


def test_score_reports_bad_input_clearly():
    assert "expected --task to be a JSON object" in rewardgym("score", "gsm8k", "--task", "{", "--completion",
                                                              "1").stderr
    assert "unknown environment 'nope'" in rewardgym("score", "nope", "--task", "{}", "--completion", "1").stderr


def test_tasks_are_reproducible_per_seed():
    first = rewardgym("tasks", "countdown", "-n", "2", "--seed", "1")
    again = rewardgym("tasks", "countdown", "-n", "2", "--seed", "1")
    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout and len(json.loads(first.stdout)["tasks"]) == 2


def test_commands_against_a_running_server(toy_server):
    out = rewardgym("score", "toy_echo", "--task", '{"answer": "7"}', "--completion", "7", "--url", toy_server.url)
    assert json.loads(out.stdout)["reward"] == 1.0
    assert "toy_echo" in rewardgym("envs", "--url", toy_server.url).stdout
    tasks = json.loads(rewardgym("tasks", "toy_echo", "-n", "2", "--url", toy_server.url).stdout)["tasks"]
    assert len(tasks) == 2
