"""A Gymnasium env whose game is played on a rewardgym server, one session per episode (requires `gymnasium`).

    from rewardgym_client.gym import make
    env = make("http://127.0.0.1:8000", "wordle", options={"difficulty": "easy"})
    observation, info = env.reset(seed=7)
    observation, reward, terminated, truncated, info = env.step("CRANE")
    env.close()

`reset` starts a session (deleting the previous one), `step` plays a move with a fresh `request_id`, so the
client's retries on dropped connections, 429 and 503 never play a move twice. A session the server lost (its
worker restarted: HTTP 410) or forgot (idle past its TTL: 404) raises `ServerError`; call `reset` for a new game.
"""

from __future__ import annotations

import string
import uuid
from typing import Any

import gymnasium
from gymnasium import spaces

from rewardgym.protocol import MAX_ACTION_CHARS

from rewardgym_client.errors import ServerError
from rewardgym_client.sync import RewardClient

MAX_OBSERVATION_CHARS = 100_000
"""Longest observation the observation space declares."""
SEED_RANGE = 2**31
"""Seeds drawn for `reset()` without one (from the env's own `np_random`)."""


class RemoteEnv(gymnasium.Env[str, str]):
    """One multi-turn environment of a rewardgym server, as a `gymnasium.Env` with text spaces."""

    metadata = {"render_modes": []}
    observation_space = spaces.Text(max_length=MAX_OBSERVATION_CHARS, min_length=0, charset=string.printable)
    action_space = spaces.Text(max_length=MAX_ACTION_CHARS, min_length=0, charset=string.printable)

    def __init__(self, client: RewardClient, env: str, options: dict[str, Any] | None = None, *,
                 own_client: bool = False) -> None:
        info = client.env(env)
        if info.kind != "multi":
            raise ValueError(f"Expected a multi-turn environment, got {env!r} (kind {info.kind!r}): score its "
                             "completions with RewardClient.score instead")
        self.client = client
        self.env = env
        self.options = dict(options or {})
        self.session_id: str | None = None
        self._own_client = own_client
        self._turn = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Start a new game on the server. `seed` picks the game (the server's seed); without one, a seed is drawn
        from this env's `np_random`. `options` replace the options given to `make` for this and later games."""
        super().reset(seed=seed)
        if options is not None:
            self.options = dict(options)
        self._end_session()
        game_seed = seed if seed is not None else int(self.np_random.integers(SEED_RANGE))
        started = self.client._request("POST", f"/v1/envs/{self.env}/sessions",
                                       {"seed": game_seed, "options": self.options})
        self.session_id, self._turn = started["session_id"], 0
        return started["observation"], {**started["info"], "seed": game_seed, "session_id": self.session_id}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self.session_id is None:
            raise RuntimeError("Expected reset() before step(), got step() with no game started")
        self._turn += 1
        answer = self.client._request("POST", f"/v1/sessions/{self.session_id}/step",
                                      {"action": action, "request_id": f"{uuid.uuid4().hex}-{self._turn}"})
        return (answer["observation"], float(answer["reward"]), bool(answer["terminated"]),
                bool(answer["truncated"]), answer["info"])

    def close(self) -> None:
        self._end_session()
        if self._own_client:
            self.client.close()
        super().close()

    def _end_session(self) -> None:
        """Delete the current session, if any; one the server already lost or forgot needs no deleting."""
        session_id, self.session_id = self.session_id, None
        if session_id is None:
            return
        try:
            self.client._request("DELETE", f"/v1/sessions/{session_id}")
        except ServerError as exc:
            if exc.status_code not in (404, 410):
                raise


def make(url: str | RewardClient, env: str, *, options: dict[str, Any] | None = None) -> RemoteEnv:
    """A `RemoteEnv` for `env` on the server at `url` (or through an existing `RewardClient`)."""
    if isinstance(url, RewardClient):
        return RemoteEnv(url, env, options)
    return RemoteEnv(RewardClient(url), env, options, own_client=True)
