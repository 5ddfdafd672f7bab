"""`wordle`: guess a secret five-letter word; each guess is answered letter by letter.

Feedback per letter: `G` right letter in the right place, `Y` in the word elsewhere, `.` not in the word (repeated
letters are matched at most as often as the word has them, greens first, as in the original game).
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

import numpy as np

from rewardgym.sdk import GenerateOptions

from rewardgym_games.environment import GameEnvironment
from rewardgym_games.textgame import InvalidMove, Outcome, TextGame
from rewardgym_games.words import word_list

GUESSES = {"easy": 7, "medium": 6, "hard": 6}
WORD_LENGTH = 5
EXPERT_OPENER = "crane"


class WordleOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 7 guesses; medium: 6; hard: 6, and every guess must use all the hints so far (hard mode)."""


def feedback(guess: str, secret: str) -> str:
    marks = ["."] * WORD_LENGTH
    left = Counter(s for g, s in zip(guess, secret) if g != s)
    for i, (g, s) in enumerate(zip(guess, secret)):
        if g == s:
            marks[i] = "G"
        elif left[g] > 0:
            marks[i] = "Y"
            left[g] -= 1
    return "".join(marks)


def hard_mode_violation(guess: str, history: list[tuple[str, str]]) -> str | None:
    """Why `guess` ignores a hint already given (hard mode), or None."""
    for previous, marks in history:
        for i, (letter, mark) in enumerate(zip(previous, marks)):
            if mark == "G" and guess[i] != letter:
                return f"hard mode: letter {i + 1} must be {letter.upper()}"
        needed = Counter(letter for letter, mark in zip(previous, marks) if mark in "GY")
        for letter, count in needed.items():
            if guess.count(letter) < count:
                return f"hard mode: the guess must contain {letter.upper()}"
    return None


class Wordle(TextGame):
    Options = WordleOptions
    title = "WORDLE"
    rules = ("Guess the secret five-letter English word. Action: a guess of exactly 5 letters (e.g. CRANE); it "
             "need not be in any word list. Feedback per letter: G = right letter, right place; Y = in the word, "
             "elsewhere; . = not in the word. Reward 1 for finding the word within the allowed guesses, else 0.")

    def start(self, rng: np.random.Generator) -> str:
        words = word_list("wordle_words")
        self.secret = words[int(rng.integers(len(words)))]
        self.guesses = GUESSES[self.options.difficulty]
        self.history: list[tuple[str, str]] = []
        hard = " Hard mode: every guess must use all the hints so far." if self.options.difficulty == "hard" else ""
        return f"You have {self.guesses} guesses.{hard}"

    def max_turns(self) -> int:
        return 2 * self.guesses + 1

    def play(self, action: str) -> Outcome:
        guess = action.lower()
        if len(guess) != WORD_LENGTH or not (guess.isascii() and guess.isalpha()):
            raise InvalidMove("expected a guess of exactly 5 letters A-Z")
        if self.options.difficulty == "hard":
            violation = hard_mode_violation(guess, self.history)
            if violation:
                raise InvalidMove(violation)
        marks = feedback(guess, self.secret)
        self.history.append((guess, marks))
        if guess == self.secret:
            return Outcome(f"{guess.upper()} is the word: you win.", reward=1.0, terminated=True)
        if len(self.history) >= self.guesses:
            return Outcome(f"No guesses left: the word was {self.secret.upper()}. You lose.", terminated=True)
        return Outcome(f"{guess.upper()} -> {marks}")

    def board(self) -> str:
        lines = [f"{guess.upper()}  {marks}" for guess, marks in self.history] or ["(no guesses yet)"]
        return "\n".join(lines + [f"Guesses left: {self.guesses - len(self.history)}"])

    def expert_action(self) -> str:
        """The first listed word consistent with every answer so far (the opener first)."""
        if not self.history:
            return EXPERT_OPENER.upper()
        for word in word_list("wordle_words"):
            if all(feedback(guess, word) == marks for guess, marks in self.history):
                return word.upper()
        raise RuntimeError("wordle: no listed word fits the feedback")


class WordleEnv(GameEnvironment):
    name = "wordle"
    description = "Wordle: guess a five-letter word in 7/6/6 guesses (hard: hard mode), G/Y/. feedback per letter."
    Game = Wordle
