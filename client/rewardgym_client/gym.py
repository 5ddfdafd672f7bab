"""A Gymnasium environment that plays a server session: `make(url, env)` -> `gymnasium.Env` with text spaces.

    from rewardgym_client.gym import make
    env = make("http://127.0.0.1:8000", "wordle", options={"difficulty": "easy"})
    observation, info = env.reset(seed=3)
    observation, reward, terminated, truncated, info = env.step("crane")

Each `reset` starts a new server session (closing the previous one) with the given seed, or one drawn from the
env's own `np_random` when none is given; `step` plays one action (with a fresh `request_id`, so the client's retry
of a step whose answer was lost is never played twice); `close` deletes the session. Needs `gymnasium`
(`pip install "rewardgym-client[gym]"`).
"""

from __future__ import annotations

import string
from typing import Any

import gymnasium
from gymnasium import spaces

from rewardgym.protocol import MAX_ACTION_CHARS

from rewardgym_client.sync import RewardClient

MAX_TEXT = 100_000
CHARSET = frozenset(string.printable)
"""The characters of the built-in games' observations and actions (the server sends whatever the game writes)."""


class ServerEnv(gymnasium.Env[str, str]):
    """One episode at a time of environment `env_name` on the server that `client` talks to."""

    metadata = {"render_modes": []}
    observation_space = spaces.Text(MAX_TEXT, charset=CHARSET)
    action_space = spaces.Text(MAX_ACTION_CHARS, charset=CHARSET)

    def __init__(self, client: RewardClient, env_name: str, options: dict[str, Any] | None = None,
                 owns_client: bool = False) -> None:
        self.client = client
        self.env_name = env_name
        self.options = dict(options or {})
        self.session_id: str | None = None
        self._owns_client = owns_client

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        self._end_session()
        episode_seed = seed if seed is not None else int(self.np_random.integers(0, 2**31 - 1))
        started = self.client.start_session(self.env_name, seed=episode_seed,
                                            options={**self.options, **(options or {})})
        self.session_id = started.session_id
        return started.observation, {**started.info, "session_id": started.session_id}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self.session_id is None:
            raise RuntimeError("Expected reset() before step(), got no open session")
        result = self.client.step(self.session_id, action)
        return result.observation, result.reward, result.terminated, result.truncated, result.info

    def close(self) -> None:
        self._end_session()
        if self._owns_client:
            self.client.close()

    def _end_session(self) -> None:
        if self.session_id is not None:
            session, self.session_id = self.session_id, None
            self.client.close_session(session)


def make(url: str, env: str, *, options: dict[str, Any] | None = None, token: str | None = None) -> ServerEnv:
    """A `gymnasium.Env` playing `env` on the gateway at `url` (http://host:port or unix:///path.sock)."""
    return ServerEnv(RewardClient(url, token=token), env, options, owns_client=True)
