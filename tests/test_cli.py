"""The `rewardgym` command, run as a user would (a subprocess), without a server and against one."""

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.conftest import ROOT, TOY_FAMILY


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
    generated = json.loads(rewardgym("tasks", "toy_echo", "-n", "2", "--url", toy_server.url).stdout)
    assert len(generated["tasks"]) == 2 and generated["env_version"] == "0.1.0"
    unknown = rewardgym("score", "nope", "--task", "{}", "--completion", "1", "--url", toy_server.url)
    assert unknown.returncode == 2 and "server answered 404: Unknown environment 'nope'" in unknown.stderr


def test_a_task_on_the_command_line_is_not_on_any_process_command_line_while_scoring():
    """Issue 7, finding 9: `!peek` answers with the task's answer if any process's command line holds it."""
    secret = f"expected-output-{uuid.uuid4().hex}"
    task = json.dumps({"answer": secret})
    peeked = rewardgym("score", "toy_echo", "--family", TOY_FAMILY, "--task", task, "--completion", "!peek")
    assert peeked.returncode == 0, peeked.stderr
    assert (json.loads(peeked.stdout)["reward"], json.loads(peeked.stdout)["details"]["extracted"]) == (0.0,
                                                                                                      "not found")
    correct = rewardgym("score", "toy_echo", "--family", TOY_FAMILY, "--task", task, "--completion", secret)
    assert json.loads(correct.stdout)["reward"] == 1.0, correct.stderr


def test_the_task_can_come_from_a_file_or_stdin(tmp_path):
    (tmp_path / "task.json").write_text('{"answer": "18"}')
    from_file = rewardgym("score", "gsm8k", "--task", f"@{tmp_path / 'task.json'}", "--completion", "#### 18")
    assert json.loads(from_file.stdout)["reward"] == 1.0, from_file.stderr
    from_stdin = rewardgym("score", "gsm8k", "--task", "-", "--completion", "#### 17", stdin='{"answer": "18"}')
    assert json.loads(from_stdin.stdout)["reward"] == 0.0, from_stdin.stderr
    both = rewardgym("score", "gsm8k", "--task", "-", "--completion", "-", stdin="{}")
    assert both.returncode == 2 and "at most one of --task and --completion" in both.stderr
    missing = rewardgym("score", "gsm8k", "--task", f"@{tmp_path / 'nope.json'}", "--completion", "1")
    assert missing.returncode == 2 and "cannot read the task" in missing.stderr


PEEK_PROGRAM = """```python
import os, re
found = "nothing"
for pid in os.listdir("/proc"):
    try:
        data = open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        continue
    match = re.search(rb"leak-[0-9a-f]{32}", data)
    if match:
        found = match.group().decode()
print(found)
```"""


@pytest.mark.docker
def test_local_scoring_of_code_uses_the_sandbox_containers_and_the_task_stays_unreadable():
    """Issue 7, finding 9, as it was found: a program printing expected output it read from a command line."""
    secret = f"leak-{uuid.uuid4().hex}"
    task = json.dumps({"time_limit_s": 5.0, "memory_limit_mb": 256, "tests": [{"input": "", "output": secret}]})
    peeked = rewardgym("score", "python_stdio", "--task", task, "--completion", PEEK_PROGRAM)
    assert peeked.returncode == 0, peeked.stderr
    assert "warm container slot" in peeked.stderr, peeked.stderr
    assert (json.loads(peeked.stdout)["status"], json.loads(peeked.stdout)["reward"]) == ("ok", 0.0), peeked.stdout
    honest = rewardgym("score", "python_stdio", "--task", task, "--completion", f"```python\nprint('{secret}')\n```")
    assert json.loads(honest.stdout)["reward"] == 1.0, honest.stdout + honest.stderr


def test_a_task_sent_to_a_server_on_this_host_is_not_on_the_command_line_either(toy_server):
    secret = f"expected-output-{uuid.uuid4().hex}"
    task = json.dumps({"answer": secret})
    peeked = rewardgym("score", "toy_echo", "--url", toy_server.url, "--task", task, "--completion", "!peek")
    assert json.loads(peeked.stdout)["details"]["extracted"] == "not found", peeked.stdout + peeked.stderr
    correct = rewardgym("score", "toy_echo", "--url", toy_server.url, "--task", task, "--completion", secret)
    assert json.loads(correct.stdout)["reward"] == 1.0, correct.stderr
