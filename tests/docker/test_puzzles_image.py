"""The puzzles image, offline: every served reasoning-gym dataset generates and scores with no network.

reasoning-gym ships its data (ARC tasks, word lists, fonts) in its wheel; this checks that the image has it, that
the stored catalogue examples are packaged, and that nothing reaches for the network (the container has none).
"""

from __future__ import annotations

import json

import pytest

from tests.docker.test_images import run_offline

pytestmark = pytest.mark.docker

PROBE = """
import json, random
from rewardgym_puzzles import FAMILY, catalogue
from rewardgym_puzzles.examples import stored_examples
envs = FAMILY.instantiate()
rewards = {}
for name, env in envs.items():
    difficulty = catalogue.served_difficulties(env.dataset)[0]
    generated = env.generate(random.Random(1), env.Options(difficulty=difficulty))
    rewards[name] = env.score(generated.task, generated.solution).reward
print("RESULT", json.dumps({"stored_examples": len(stored_examples()), "rewards": rewards}))
"""


def test_puzzles_image_generates_and_scores_every_dataset_offline(built_images: list[str]) -> None:
    out = run_offline("rewardgym/puzzles:latest", "python", "-c", PROBE)
    # some generators print (bf prints dots without a newline): read what follows the marker
    figures = json.loads(out[out.rindex("RESULT ") + len("RESULT "):])
    assert figures["stored_examples"] == len(figures["rewards"]) == 97
    assert {name for name, reward in figures["rewards"].items() if reward != 1.0} == set()
