"""A small multi-turn family for testing sessions without the games family: a counter to drive to a target.

`toy_counter`: the observation says the count and the seeded target; `up` adds one, anything else is a wasted turn;
reaching the target wins (reward 1), 8 turns without it truncates. Actions that misbehave on purpose:
`sleep N` (sleeps N seconds, then counts as a wasted turn), `raise`. `toy_single` is single-turn (it has no
sessions).
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium
from gymnasium import spaces

from rewardgym.multiturn import MultiTurnEnvironment
from rewardgym.registry import Family
from rewardgym.sdk import GenerateOptions
from tests.support.toy_family import ToyEcho

MAX_TURNS = 8


class CounterGame(gymnasium.Env[str, str]):
    observation_space = spaces.Text(200)
    action_space = spaces.Text(50)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        self.target = int(self.np_random.integers(2, 5))
        self.count = self.turns = 0
        return self.observe(), {"count": 0, "target": self.target}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if action.startswith("sleep "):
            time.sleep(float(action.split()[1]))
        elif action == "raise":
            raise RuntimeError("boom")
        self.turns += 1
        self.count += action == "up"
        won = self.count >= self.target
        info = {"count": self.count, "target": self.target}
        return self.observe(), 1.0 if won else 0.0, won, not won and self.turns >= MAX_TURNS, info

    def observe(self) -> str:
        return f"count {self.count}, target {self.target}, turn {self.turns}"


class ToyCounter(MultiTurnEnvironment):
    name = "toy_counter"
    version = "0.1.0"
    description = "Say `up` until the count reaches the target; `sleep N` and `raise` misbehave for tests."
    timeout_s = 1.0
    max_timeout_s = 5.0

    def make(self) -> CounterGame:
        return CounterGame()

    def solve(self, seed: int, options: GenerateOptions) -> list[str] | None:
        return ["up"] * self.replay(seed, options, []).info["target"]


class ToySingle(ToyEcho):
    name = "toy_single"


FAMILY = Family(name="toy_turns", environments=(ToyCounter, ToySingle))
