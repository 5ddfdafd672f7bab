"""`BoardGame`: two-player games where the model plays X (moving first) against an ε-random search opponent.

The opponent, O, plays a uniformly random legal move with probability ε (set by the difficulty), otherwise one of
its best moves by search, chosen at random among equals. Reward: win 1, draw 0.5, loss 0, on the last step.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from rewardgym.sdk import GenerateOptions

from rewardgym_games.textgame import Outcome, TextGame

WIN, DRAW, LOSS = 1.0, 0.5, 0.0
X, O = 0, 1


class BoardGameOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """How often the opponent plays a random move instead of its search's best (ε), and how deep it searches."""


class BoardGame(TextGame):
    """Subclasses define the position and the searches; the turn order and outcomes live here."""

    Options = BoardGameOptions
    EPSILON: ClassVar[dict[str, float]]
    CELLS: ClassVar[int]

    def max_turns(self) -> int:
        """X plays at most half the cells; one invalid action may precede each move."""
        return self.CELLS + 1

    def start(self, rng: np.random.Generator) -> str:
        self.new_position()
        return (f"You play X and move first. The opponent plays O (it plays a random move "
                f"{round(100 * self.EPSILON[self.options.difficulty])}% of the time).")

    def play(self, action: str) -> Outcome:
        move = self.read_move(action)
        self.apply(move, X)
        ended = self.result(X, f"You play {self.describe(move)}.")
        if ended:
            return ended
        epsilon = self.EPSILON[self.options.difficulty]
        legal = self.legal_moves()
        if self.np_random.random() < epsilon:
            reply = legal[int(self.np_random.integers(len(legal)))]
        else:
            best = self.best_moves(O)
            reply = best[int(self.np_random.integers(len(best)))]
        self.apply(reply, O)
        return self.result(O, f"You play {self.describe(move)}; O plays {self.describe(reply)}.") or Outcome(
            f"You play {self.describe(move)}; O plays {self.describe(reply)}. Your move.")

    def result(self, player: int, said: str) -> Outcome | None:
        if self.wins(player):
            return (Outcome(f"{said} You have a line: you win.", reward=WIN, terminated=True) if player == X
                    else Outcome(f"{said} O has a line: you lose.", reward=LOSS, terminated=True))
        if not self.legal_moves():
            return Outcome(f"{said} The board is full: a draw.", reward=DRAW, terminated=True)
        return None

    # -- per game ----------------------------------------------------------------------------------------------------

    def new_position(self) -> None:
        raise NotImplementedError

    def read_move(self, action: str) -> int:
        """The move an action names, legal in the position, or `InvalidMove`."""
        raise NotImplementedError

    def legal_moves(self) -> list[int]:
        raise NotImplementedError

    def apply(self, move: int, player: int) -> None:
        raise NotImplementedError

    def wins(self, player: int) -> bool:
        raise NotImplementedError

    def best_moves(self, player: int) -> list[int]:
        """All of `player`'s moves of the best value by the opponent's search, in a fixed order."""
        raise NotImplementedError

    def describe(self, move: int) -> str:
        raise NotImplementedError
