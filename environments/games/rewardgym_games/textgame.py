"""`TextGame`: the gymnasium base of every game here, with the turn loop and the invalid-action rule in one place.

A game subclass says how a game starts (`start`), what one action does (`play`), how the position reads
(`board`), how many turns it may last (`max_turns`) and how a scripted player moves (`expert_action`). The base
turns that into `reset`/`step` with text observations and the rule every game shares:

    An invalid action (unreadable, or illegal in the position) is answered with an explanation and the same
    position; the turn counts. A second invalid action in a row ends the game as a loss (reward 0).
"""

from __future__ import annotations

import copy
import string
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import gymnasium
import numpy as np
from gymnasium import spaces

from rewardgym.sdk import GenerateOptions

CHARSET = frozenset(string.printable)
"""Printable ASCII plus whitespace: observations are plain text, actions are sampled from the same set."""
MAX_OBSERVATION_CHARS = 4000
MAX_ACTION_CHARS = 64
"""Longer actions are read only up to this length (no game's action is longer)."""
MAX_INVALID_IN_A_ROW = 2
ECHO_CHARS = 24


@cache
def _text_space(max_length: int) -> spaces.Text:
    return spaces.Text(max_length=max_length, charset=CHARSET)


def text_space(max_length: int) -> spaces.Text:
    """A `spaces.Text` over `CHARSET` with its own (lazily seeded) sampler. Copied from one built per process:
    building the charset tables costs more than a whole wordle step, and replay makes an env per step."""
    space = copy.copy(_text_space(max_length))
    space._np_random = None  # type: ignore[assignment]  # gymnasium seeds it on first use
    return space


class InvalidMove(ValueError):
    """`play` raises this for an action it cannot read or that the rules forbid; the message is shown."""


@dataclass(frozen=True)
class Outcome:
    """What one valid action did: a message, the step's reward, and whether the game ended."""

    message: str
    reward: float = 0.0
    terminated: bool = False


def echo(action: str) -> str:
    """The action quoted back safely: printable ASCII only, short."""
    shown = "".join(c if c in CHARSET and c not in "\t\n\r\x0b\x0c" else "?" for c in action[:ECHO_CHARS])
    return repr(shown + ("..." if len(action) > ECHO_CHARS else ""))


class TextGame(gymnasium.Env[str, str]):
    """A game with text observations and text actions, seeded only through `reset(seed=...)`."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    Options: ClassVar[type[GenerateOptions]] = GenerateOptions
    title: ClassVar[str]
    rules: ClassVar[str]
    """How to play: the action format and the reward, shown at the start of every game."""

    def __init__(self) -> None:
        self.observation_space = text_space(MAX_OBSERVATION_CHARS)
        self.action_space = text_space(MAX_ACTION_CHARS)
        self.options: GenerateOptions = self.Options()
        self.turn = 0
        self.invalid_in_a_row = 0
        self.total_reward = 0.0
        self.over = True

    # -- what a game defines -------------------------------------------------------------------------------------

    def start(self, rng: np.random.Generator) -> str:
        """Set up a new game from `rng` (the env's seeded generator) and say what happened."""
        raise NotImplementedError

    def play(self, action: str) -> Outcome:
        """Apply one stripped action; raise `InvalidMove` to refuse it without changing the game."""
        raise NotImplementedError

    def board(self) -> str:
        """The position as the player sees it."""
        raise NotImplementedError

    def max_turns(self) -> int:
        """Turns (valid or not) after which the game is truncated."""
        raise NotImplementedError

    def expert_action(self) -> str:
        """The scripted player's next action. Deterministic, and never draws from `self.np_random`."""
        raise NotImplementedError

    # -- the gymnasium contract ------------------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Start a new game. `options` is the environment's options as a dict (e.g. `{"difficulty": "hard"}`)."""
        super().reset(seed=seed)
        self.options = self.Options.model_validate(options or {})
        self.turn, self.invalid_in_a_row, self.total_reward, self.over = 0, 0, 0.0, False
        opening = self.start(self.np_random)
        text = f"{self.title}\n{self.rules}\n\n{opening}\n\n{self.board()}"
        return self._checked(text), self._info(invalid=False)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Play one action. `terminated`: the game ended by its rules (won, lost or drawn; also the second invalid
        action in a row). `truncated`: the turn limit was reached first. The step rewards of an episode sum to its
        reward, in [0, 1]."""
        if self.over:
            raise RuntimeError("Expected reset() after the game ended, got step()")
        if not isinstance(action, str):
            raise TypeError(f"Expected a str action, got {type(action).__name__}")
        self.turn += 1
        invalid = False
        try:
            outcome = self.play(action.strip()[:MAX_ACTION_CHARS])
            self.invalid_in_a_row = 0
        except InvalidMove as exc:
            invalid = True
            self.invalid_in_a_row += 1
            if self.invalid_in_a_row >= MAX_INVALID_IN_A_ROW:
                outcome = Outcome(f"Invalid action {echo(action)} again: {exc}. The game is lost.", terminated=True)
            else:
                outcome = Outcome(f"Invalid action {echo(action)}: {exc}. Try again; a second invalid action in "
                                  "a row loses the game.")
        truncated = not outcome.terminated and self.turn >= self.max_turns()
        message = outcome.message
        if truncated:
            message += f"\nThe turn limit ({self.max_turns()}) is reached: the game is over."
        self.over = outcome.terminated or truncated
        self.total_reward += outcome.reward
        return (self._checked(f"{message}\n\n{self.board()}"), float(outcome.reward), outcome.terminated,
                truncated, self._info(invalid=invalid))

    def _info(self, invalid: bool) -> dict[str, Any]:
        return {"turn": self.turn, "invalid_action": invalid, "invalid_in_a_row": self.invalid_in_a_row,
                "max_turns": self.max_turns(), "total_reward": self.total_reward}

    def _checked(self, text: str) -> str:
        if len(text) > MAX_OBSERVATION_CHARS or not set(text) <= CHARSET:
            raise ValueError(f"{type(self).__name__}: expected an ASCII observation of at most "
                             f"{MAX_OBSERVATION_CHARS} characters, got {len(text)} characters")
        return text


def read_choice(action: str, choices: dict[str, int], what: str) -> int:
    """An action that is one of a few words (case-insensitive), e.g. directions; its index."""
    key = action.lower()
    if key not in choices:
        raise InvalidMove(f"expected {what}")
    return choices[key]


def read_int(text: str, low: int, high: int, what: str) -> int:
    """An integer in [low, high], or `InvalidMove` saying what was expected."""
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise InvalidMove(f"expected {what} from {low} to {high}")
    return int(text)


def read_cell(action: str, rows: int, cols: int) -> tuple[int, int]:
    """A grid cell written `row col` (or `row,col`), counted from 1; returned counted from 0."""
    parts = action.replace(",", " ").split()
    if len(parts) != 2:
        raise InvalidMove("expected a row and a column, e.g. 3 5")
    return read_int(parts[0], 1, rows, "a row") - 1, read_int(parts[1], 1, cols, "a column") - 1
