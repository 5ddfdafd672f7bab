"""A gateway that wants a bearer token (`serve --token-file`): the client sends it; without it, 401 at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Iterator

import pytest

from rewardgym_client import RetryPolicy, RewardClient, ServerError
from tests.conftest import ROOT, TOY_FAMILY, RunningServer, free_port, stop_server

TOKEN = "client-test-token-0123456789abcdef"


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("token")
    token_file = folder / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    port = free_port()
    log_path = folder / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "rewardgym.cli", "serve", "--port", str(port), "--families", TOY_FAMILY,
         "--processes", "1", "--token-file", str(token_file)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT, start_new_session=True)
    server = RunningServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        with RewardClient(server.url, token=TOKEN) as client:  # /readyz wants the token too
            client.wait_ready(timeout_s=90)
        yield server
    finally:
        stop_server(server)


def test_the_token_is_sent_and_its_absence_is_not_retried(token_server):
    with RewardClient(token_server.url, token=TOKEN) as client:
        assert client.score("toy_echo", {"answer": "3"}, "3").reward == 1.0
    with RewardClient(token_server.url, retry=RetryPolicy(max_attempts=5)) as client:
        with pytest.raises(ServerError) as refused:
            client.envs()
    assert refused.value.status_code == 401


def test_the_cli_url_mode_sends_rewardgym_token(token_server):
    def envs(token: str | None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "REWARDGYM_TOKEN"}
        env["PYTHONPATH"] = str(ROOT)
        if token:
            env["REWARDGYM_TOKEN"] = token
        return subprocess.run([sys.executable, "-m", "rewardgym.cli", "score", "toy_echo", "--task",
                               json.dumps({"answer": "5"}), "--completion", "5", "--url", token_server.url],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)

    with_token = envs(TOKEN)
    assert with_token.returncode == 0 and json.loads(with_token.stdout)["reward"] == 1.0, with_token.stderr
    without = envs(None)
    assert without.returncode == 2 and "server answered 401" in without.stderr


def test_the_adapters_pass_the_token(token_server):
    from rewardgym_client.trl import TRLReward
    from rewardgym_client.verl import compute_score

    verdict = compute_score(data_source="toy_echo", solution_str="4", ground_truth="4", url=token_server.url,
                            token=TOKEN)
    assert verdict["score"] == 1.0
    reward = TRLReward("toy_echo", token_server.url, token=TOKEN)
    assert reward(prompts=["p"], completions=["4"], task=[{"answer": "4"}]) == [1.0]
