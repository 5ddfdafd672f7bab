"""Gymnasium's deterministic toy-text grid worlds with text observations: `frozen_lake`, `cliff_walking`, `taxi`.

Each wraps the gymnasium env itself (its transition table `P` and `step`), seeded from this env's generator; only
the reading of actions, the drawing of the board and the reward (1 for reaching the goal, else 0) are ours.
Every transition of the inner env is classified once (`kind`), which gives both the rules and the expert: a
breadth-first search over `P` for the shortest safe path to the goal.
"""

from __future__ import annotations

import copy
from collections import deque
from functools import cache, lru_cache
from typing import ClassVar, Literal

import gymnasium
import numpy as np
from gymnasium.envs.toy_text import cliffwalking, frozen_lake, taxi

from rewardgym.sdk import GenerateOptions

from rewardgym_games.environment import GameEnvironment
from rewardgym_games.textgame import InvalidMove, Outcome, TextGame, read_choice

Kind = Literal["move", "goal", "loss", "illegal"]


@cache
def _prototype(factory: type[gymnasium.Env]) -> gymnasium.Env:
    return factory()


def fresh(factory: type[gymnasium.Env]) -> gymnasium.Env:
    """A new inner env sharing one read-only transition table per process (building Taxi's takes ~20 ms)."""
    return copy.copy(_prototype(factory))


@lru_cache(maxsize=1024)
def _lake(size: int, frozen: float, seed: int) -> gymnasium.Env:
    lake = frozen_lake.generate_random_map(size=size, p=frozen, seed=seed)
    return frozen_lake.FrozenLakeEnv(desc=lake, is_slippery=False)


def fresh_lake(size: int, frozen: float, seed: int) -> gymnasium.Env:
    """A new FrozenLake on the map of `seed`, sharing the map's read-only tables with earlier replays of it (a
    session replays its game at every step; drawing and building an 8x8 lake takes ~6 ms)."""
    return copy.copy(_lake(size, frozen, seed))


class GridOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """frozen_lake: 4x4 / 6x6 / 8x8 lakes; taxi: 60 / 40 / 30 turns; cliff_walking: 50 / 25 / 15 turns."""


class ToyTextGame(TextGame):
    """A deterministic gymnasium toy-text env (`self.inner`) played with words for actions."""

    Options = GridOptions
    ACTIONS: ClassVar[dict[str, int]]
    """Action words (and their short forms) to the inner env's action numbers."""
    MESSAGES: ClassVar[dict[Kind, str]]

    def make_inner(self, rng: np.random.Generator) -> gymnasium.Env:
        raise NotImplementedError

    def kind(self, reward: float, terminated: bool) -> Kind:
        """What an inner transition means here."""
        raise NotImplementedError

    def start(self, rng: np.random.Generator) -> str:
        self.inner = self.make_inner(rng)
        self.inner.reset(seed=int(rng.integers(2**31)))
        return f"You have {self.max_turns()} turns."

    def transition(self, state: int, action: int) -> tuple[int, Kind]:
        ((_, next_state, reward, terminated),) = self.inner.unwrapped.P[state][action]
        return next_state, self.kind(reward, terminated)

    def play(self, action: str) -> Outcome:
        words = sorted({word for word in self.ACTIONS if len(word) > 1})
        number = read_choice(action, self.ACTIONS, f"a move ({', '.join(words)})")
        _, kind = self.transition(self.inner.unwrapped.s, number)
        if kind == "illegal":
            raise InvalidMove(self.MESSAGES["illegal"])
        self.inner.step(number)
        return Outcome(self.MESSAGES[kind], reward=1.0 if kind == "goal" else 0.0, terminated=kind in ("goal", "loss"))

    def expert_action(self) -> str:
        """The first move of a shortest path to the goal that never loses (breadth-first over `P`)."""
        names = {number: word for word, number in self.ACTIONS.items() if len(word) > 1}
        start = int(self.inner.unwrapped.s)
        first: dict[int, int] = {start: -1}
        queue = deque([start])
        while queue:
            state = queue.popleft()
            for number in sorted(names):
                next_state, kind = self.transition(state, number)
                step = number if state == start else first[state]
                if kind == "goal":
                    return names[step]
                if kind == "move" and next_state not in first:
                    first[next_state] = step
                    queue.append(next_state)
        return names[min(names)]  # no safe path: any move (the game is lost anyway)


class FrozenLake(ToyTextGame):
    SIZE = {"easy": 4, "medium": 6, "hard": 8}
    FROZEN = {"easy": 0.8, "medium": 0.75, "hard": 0.7}
    ACTIONS = {"left": 0, "l": 0, "down": 1, "d": 1, "right": 2, "r": 2, "up": 3, "u": 3}
    MESSAGES = {"move": "You move.", "goal": "You reach the goal: you win.", "loss": "You fall into a hole: you lose."}
    title = "FROZEN LAKE"
    rules = ("Walk from S to the goal G over frozen tiles F without stepping into a hole H (the ice is not "
             "slippery). Action: left, down, right or up (or l, d, r, u); walking into the edge leaves you in place. "
             "Reward 1 for reaching G, 0 for a hole or running out of turns.")

    def make_inner(self, rng: np.random.Generator) -> gymnasium.Env:
        difficulty = self.options.difficulty
        return fresh_lake(self.SIZE[difficulty], self.FROZEN[difficulty], int(rng.integers(2**31)))

    def max_turns(self) -> int:
        return 2 * self.SIZE[self.options.difficulty] ** 2

    def kind(self, reward: float, terminated: bool) -> Kind:
        return "goal" if reward > 0 else "loss" if terminated else "move"

    def board(self) -> str:
        inner = self.inner.unwrapped
        rows = [[cell.decode() for cell in row] for row in inner.desc]
        row, col = divmod(int(inner.s), inner.ncol)
        rows[row][col] = "P"
        return "Lake (P = you):\n" + "\n".join(" ".join(r) for r in rows)


class CliffWalking(ToyTextGame):
    TURNS = {"easy": 50, "medium": 25, "hard": 15}
    ACTIONS = {"up": 0, "u": 0, "right": 1, "r": 1, "down": 2, "d": 2, "left": 3, "l": 3}
    MESSAGES = {"move": "You move.", "goal": "You reach the goal: you win.",
                "loss": "You step off the cliff: you lose."}
    title = "CLIFF WALKING"
    rules = ("Walk on a 4x12 grid from S (bottom left) to G (bottom right); the cells C between them are a cliff. "
             "Action: up, right, down or left (or u, r, d, l); walking into the edge leaves you in place. Reward 1 "
             "for reaching G, 0 for stepping off the cliff or running out of turns (the shortest path is 13 moves).")

    def make_inner(self, rng: np.random.Generator) -> gymnasium.Env:
        return fresh(cliffwalking.CliffWalkingEnv)  # not slippery by default

    def max_turns(self) -> int:
        return self.TURNS[self.options.difficulty]

    def kind(self, reward: float, terminated: bool) -> Kind:
        return "loss" if reward <= -100 else "goal" if terminated else "move"

    def board(self) -> str:
        inner = self.inner.unwrapped
        rows, cols = inner.shape
        grid = [["."] * cols for _ in range(rows)]
        grid[rows - 1] = ["S"] + ["C"] * (cols - 2) + ["G"]
        row, col = divmod(int(inner.s), cols)
        grid[row][col] = "P"
        return "Grid (P = you):\n" + "\n".join(" ".join(r) for r in grid)


class Taxi(ToyTextGame):
    TURNS = {"easy": 60, "medium": 40, "hard": 30}
    ACTIONS = {"south": 0, "s": 0, "north": 1, "n": 1, "east": 2, "e": 2, "west": 3, "w": 3,
               "pickup": 4, "p": 4, "dropoff": 5, "d": 5}
    MESSAGES = {"move": "Done.", "goal": "The passenger is at the destination: you win.",
                "illegal": "there is no passenger to pick up or drop off here"}
    LETTERS = "RGYB"
    title = "TAXI"
    rules = ("Drive the taxi (T, or t with the passenger aboard) on the 5x5 map to the passenger's stand, pick them "
             "up, drive to their destination and drop them off. '|' is a wall; ':' can be crossed. Action: south, "
             "north, east, west, pickup or dropoff (or s, n, e, w, p, d). A pickup or drop-off where none is "
             "possible is an invalid action. Reward 1 for delivering the passenger, 0 if the turns run out.")

    def make_inner(self, rng: np.random.Generator) -> gymnasium.Env:
        return fresh(taxi.TaxiEnv)

    def max_turns(self) -> int:
        return self.TURNS[self.options.difficulty]

    def kind(self, reward: float, terminated: bool) -> Kind:
        return "goal" if terminated else "illegal" if reward <= -10 else "move"

    def board(self) -> str:
        inner = self.inner.unwrapped
        row, col, passenger, destination = inner.decode(int(inner.s))
        grid = [[cell.decode() for cell in line] for line in inner.desc]
        grid[row + 1][2 * col + 1] = "t" if passenger == 4 else "T"
        where = "in the taxi" if passenger == 4 else f"waiting at {self.LETTERS[passenger]}"
        lines = ["".join(line) for line in grid]
        return "\n".join(lines + [f"Passenger: {where}. Destination: {self.LETTERS[destination]}."])


class FrozenLakeEnv(GameEnvironment):
    name = "frozen_lake"
    description = "Gymnasium FrozenLake (not slippery) on random 4x4/6x6/8x8 lakes, text board, reward 1 at the goal."
    Game = FrozenLake


class CliffWalkingEnv(GameEnvironment):
    name = "cliff_walking"
    description = "Gymnasium CliffWalking 4x12 with text board; the cliff ends the game; 50/25/15 turns."
    Game = CliffWalking


class TaxiEnv(GameEnvironment):
    name = "taxi"
    description = "Gymnasium Taxi with a text map: pick up and deliver the passenger within 60/40/30 turns."
    Game = Taxi
