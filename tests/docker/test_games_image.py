"""The games image: its games run offline (word lists shipped in the wheel), and a game replayed inside the image
is the same game as on the host (same seed and actions, same observation and reward)."""

from __future__ import annotations

import json

import pytest

from rewardgym_games import FAMILY
from tests.docker.test_images import run_offline

pytestmark = pytest.mark.docker

SCRIPT = """
import json
from rewardgym_games import FAMILY
out = {}
for name, env in sorted(FAMILY.instantiate().items()):
    actions, _ = env.play_expert(5, env.Options(difficulty="hard"))
    episode = env.replay(5, {"difficulty": "hard"}, actions)
    out[name] = [actions, episode.observation, episode.total_reward]
print(json.dumps(out))
"""


def test_games_image_replays_the_same_games_as_the_host(built_images: list[str]) -> None:
    inside = json.loads(run_offline("rewardgym/games:latest", "python", "-c", SCRIPT))
    envs = FAMILY.instantiate()
    assert set(inside) == set(envs)
    for name, (actions, observation, reward) in inside.items():
        episode = envs[name].replay(5, {"difficulty": "hard"}, actions)
        assert (episode.observation, episode.total_reward) == (observation, reward), name
