"""`mastermind`: find a secret code of coloured pegs (digits) from exact/colour-only feedback."""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Literal

import numpy as np

from rewardgym.sdk import GenerateOptions

from rewardgym_games.environment import GameEnvironment
from rewardgym_games.textgame import InvalidMove, Outcome, TextGame

# difficulty: (pegs, colours, guesses)
SETTINGS = {"easy": (4, 6, 12), "medium": (4, 6, 10), "hard": (5, 7, 10)}


class MastermindOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 4 pegs, 6 colours, 12 guesses; medium: 4, 6, 10; hard: 5 pegs, 7 colours, 10 guesses."""


def pegs(guess: tuple[int, ...], secret: tuple[int, ...]) -> tuple[int, int]:
    """(exact, colour only): pegs of the right colour in the right place, and of a right colour elsewhere."""
    exact = sum(g == s for g, s in zip(guess, secret))
    common = sum((Counter(guess) & Counter(secret)).values())
    return exact, common - exact


@cache
def all_codes(length: int, colours: int) -> tuple[np.ndarray, np.ndarray]:
    """Every code in lexicographic order (rows), and each code's count of every colour (for the expert)."""
    grids = np.meshgrid(*[np.arange(1, colours + 1)] * length, indexing="ij")
    codes = np.stack([grid.ravel() for grid in grids], axis=1)
    counts = np.stack([(codes == colour).sum(axis=1) for colour in range(1, colours + 1)], axis=1)
    return codes, counts


class Mastermind(TextGame):
    Options = MastermindOptions
    title = "MASTERMIND"
    rules = ("Find the secret code. Action: a guess of the code's length in colours 1..N, written as digits "
             "(e.g. 1123 or 1 1 2 3); colours may repeat. Feedback: exact = right colour in the right place, "
             "colour = right colour in the wrong place. Reward 1 for finding the code within the allowed guesses, "
             "else 0.")

    def start(self, rng: np.random.Generator) -> str:
        self.length, self.colours, self.guesses = SETTINGS[self.options.difficulty]
        self.secret = tuple(int(c) for c in rng.integers(1, self.colours + 1, size=self.length))
        self.history: list[tuple[tuple[int, ...], tuple[int, int]]] = []
        return f"The code has {self.length} pegs in colours 1 to {self.colours}. You have {self.guesses} guesses."

    def max_turns(self) -> int:
        return 2 * self.guesses + 1

    def play(self, action: str) -> Outcome:
        digits = action.replace(" ", "").replace(",", "")
        if (len(digits) != self.length or not (digits.isascii() and digits.isdigit())
                or not all(1 <= int(d) <= self.colours for d in digits)):
            raise InvalidMove(f"expected {self.length} digits, each from 1 to {self.colours}")
        guess = tuple(int(d) for d in digits)
        result = pegs(guess, self.secret)
        self.history.append((guess, result))
        if result[0] == self.length:
            return Outcome(f"{digits} is the code: you win.", reward=1.0, terminated=True)
        if len(self.history) >= self.guesses:
            code = "".join(map(str, self.secret))
            return Outcome(f"No guesses left: the code was {code}. You lose.", terminated=True)
        return Outcome(f"{digits}: exact {result[0]}, colour {result[1]}")

    def board(self) -> str:
        lines = [f"{''.join(map(str, guess))}  exact {exact}, colour {colour}"
                 for guess, (exact, colour) in self.history] or ["(no guesses yet)"]
        return "\n".join(lines + [f"Guesses left: {self.guesses - len(self.history)}"])

    def expert_action(self) -> str:
        """The first code, in lexicographic order, consistent with every answer so far."""
        codes, counts = all_codes(self.length, self.colours)
        consistent = np.ones(len(codes), dtype=bool)
        for guess, (exact, colour) in self.history:
            guess_counts = np.bincount(guess, minlength=self.colours + 1)[1:]
            hits = (codes == np.array(guess)).sum(axis=1)
            common = np.minimum(counts, guess_counts).sum(axis=1)
            consistent &= (hits == exact) & (common - hits == colour)
        first = np.flatnonzero(consistent)
        if len(first) == 0:
            raise RuntimeError("mastermind: no code fits the feedback")
        return "".join(map(str, codes[first[0]]))


class MastermindEnv(GameEnvironment):
    name = "mastermind"
    description = "Mastermind: find a 4-5 peg colour code from exact/colour feedback within 12/10/10 guesses."
    Game = Mastermind
