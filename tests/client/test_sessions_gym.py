"""Sessions through the client, and the Gymnasium proxy, against a live gateway hosting the toy multi-turn family."""

from __future__ import annotations

from typing import Iterator

import pytest
from gymnasium.utils.env_checker import check_env

from rewardgym_client import AsyncRewardClient, RewardClient, ServerError
from rewardgym_client.gym import make
from tests.conftest import RunningServer, start_server, stop_server

TURNS_FAMILY = "tests.support.toy_turns:FAMILY"


@pytest.fixture(scope="module")
def turns_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("turns"), "--families", TURNS_FAMILY, "--processes", "1")
    yield server
    stop_server(server)


def test_a_session_played_to_the_end(turns_server):
    with RewardClient(turns_server.url) as client:
        started = client.start_session("toy_counter", seed=4)
        target = started.info["target"]
        steps = [client.step(started.session_id, "up") for _ in range(target)]
        state = client.session(started.session_id)
        assert [s.terminated for s in steps] == [False] * (target - 1) + [True] and steps[-1].reward == 1.0
        assert state.actions == ["up"] * target and state.total_reward == 1.0
        with pytest.raises(ServerError) as over:
            client.step(started.session_id, "up")
        assert over.value.status_code == 409
        closed = client.close_session(started.session_id)
        assert closed.session_id == started.session_id
        with pytest.raises(ServerError) as gone:
            client.session(started.session_id)
        assert gone.value.status_code == 404


def test_a_step_with_the_same_request_id_is_played_once(turns_server):
    with RewardClient(turns_server.url) as client:
        started = client.start_session("toy_counter", seed=4)
        first = client.step(started.session_id, "up", request_id="r1")
        again = client.step(started.session_id, "up", request_id="r1")
        assert again == first and client.session(started.session_id).actions == ["up"]


async def test_async_sessions(turns_server):
    async with AsyncRewardClient(turns_server.url) as client:
        started = await client.start_session("toy_counter", seed=1)
        step = await client.step(started.session_id, "wait")
        assert (step.reward, step.terminated, step.info["count"]) == (0.0, False, 0)
        assert (await client.close_session(started.session_id)).actions == ["wait"]


def test_the_gymnasium_proxy_plays_and_passes_gymnasiums_checker(turns_server):
    env = make(turns_server.url, "toy_counter")
    try:
        observation, info = env.reset(seed=4)
        assert observation.startswith("count 0, target") and info["session_id"]
        total, done = 0.0, False
        while not done:
            observation, reward, terminated, truncated, info = env.step("up")
            total, done = total + reward, terminated or truncated
        assert total == 1.0 and info["count"] == info["target"]
        first_session = env.session_id
        env.reset(seed=5)
        assert env.session_id != first_session  # a new episode is a new session; the old one was closed
        check_env(env, skip_render_check=True)
    finally:
        env.close()
    assert env.session_id is None
