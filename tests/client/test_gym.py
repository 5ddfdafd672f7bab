"""`rewardgym_client.gym.make`: a server's game as a gymnasium env, one session per episode, against a live gateway."""

from __future__ import annotations

from typing import Iterator

import pytest
from gymnasium.utils.env_checker import check_env

from rewardgym_client import RewardClient, ServerError
from rewardgym_client.gym import make
from rewardgym_games import FAMILY as GAMES
from tests.conftest import TOY_FAMILY, RunningServer, start_server, stop_server

WORDLE = GAMES.instantiate()["wordle"]


@pytest.fixture(scope="module")
def games_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("gym"), "--families", f"games,{TOY_FAMILY}", "--processes", "1")
    yield server
    stop_server(server)


def test_an_episode_played_through_the_remote_env_is_the_servers_game(games_server):
    env = make(games_server.url, "wordle", options={"difficulty": "easy"})
    try:
        observation, info = env.reset(seed=7)
        assert observation == WORDLE.replay(7, {"difficulty": "easy"}, []).observation and info["seed"] == 7
        expert, _ = WORDLE.play_expert(7, WORDLE.Options(difficulty="easy"))
        for action in expert:
            observation, reward, terminated, truncated, info = env.step(action)
        assert (reward, terminated, truncated) == (1.0, True, False)
        with pytest.raises(ServerError) as over:
            env.step("CRANE")
        assert over.value.status_code == 409
        first = env.session_id
        env.reset()  # a new game: the finished session is deleted, the new one drawn from the env's own seed
        with RewardClient(games_server.url) as client, pytest.raises(ServerError) as gone:
            client._request("GET", f"/v1/sessions/{first}")
        assert gone.value.status_code == 404 and env.session_id != first
    finally:
        env.close()
    assert env.session_id is None


def test_the_remote_env_passes_gymnasiums_env_checker(games_server):
    env = make(games_server.url, "wordle")
    try:
        check_env(env, skip_render_check=True)
    finally:
        env.close()


def test_single_turn_environments_and_steps_before_reset_are_refused(games_server):
    with RewardClient(games_server.url) as client:
        with pytest.raises(ValueError, match="multi-turn"):
            make(client, "toy_echo")
        env = make(client, "wordle")
        with pytest.raises(RuntimeError, match="reset"):
            env.step("CRANE")
