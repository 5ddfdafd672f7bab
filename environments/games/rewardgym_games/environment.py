"""`GameEnvironment`: a `TextGame` served as a rewardgym multi-turn environment.

Each game module ends with a few lines naming its game, e.g.

    class WordleEnv(GameEnvironment):
        name = "wordle"
        description = "..."
        Game = Wordle

`Options` comes from the game; `solve` plays the game's scripted expert, so `generate` only hands out games the
expert wins (the reference transcript scores 1).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rewardgym.multiturn import MultiTurnEnvironment
from rewardgym.sdk import GenerateOptions

from rewardgym_games.textgame import TextGame

WIN = 1.0 - 1e-9


class GameEnvironment(MultiTurnEnvironment):
    """A multi-turn environment whose gymnasium env is `Game`."""

    Game: ClassVar[type[TextGame]]
    timeout_s = 10.0
    max_timeout_s = 60.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "Game" in cls.__dict__ and "Options" not in cls.__dict__:
            cls.Options = cls.Game.Options
        super().__init_subclass__(**kwargs)

    def make(self) -> TextGame:
        return self.Game()

    def play_expert(self, seed: int, options: GenerateOptions) -> tuple[list[str], float]:
        """The expert's transcript of the game of (seed, options), and the reward it got."""
        game = self.make()
        game.reset(seed=seed, options=self.parse_options(options).model_dump())
        actions: list[str] = []
        while not game.over:
            action = game.expert_action()
            actions.append(action)
            game.step(action)
        return actions, game.total_reward

    def solve(self, seed: int, options: GenerateOptions) -> list[str] | None:
        actions, reward = self.play_expert(seed, options)
        return actions if reward >= WIN else None
