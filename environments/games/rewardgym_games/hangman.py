"""`hangman`: reveal a secret word letter by letter before running out of lives."""

from __future__ import annotations

from typing import Literal

import numpy as np

from rewardgym.sdk import GenerateOptions

from rewardgym_games.environment import GameEnvironment
from rewardgym_games.textgame import InvalidMove, Outcome, TextGame
from rewardgym_games.words import word_list

LIVES = {"easy": 8, "medium": 6, "hard": 4}
ALPHABET = "abcdefghijklmnopqrstuvwxyz"


class HangmanOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """Lives (wrong guesses allowed): easy 8, medium 6, hard 4."""


class Hangman(TextGame):
    Options = HangmanOptions
    title = "HANGMAN"
    rules = ("Find the secret English word (a common noun). Action: one letter (e.g. E), or the whole word. A "
             "letter not in the word, or a wrong whole word, costs a life; guessing a letter twice is an invalid "
             "action. Reward 1 for finding the word before the lives run out, else 0.")

    def start(self, rng: np.random.Generator) -> str:
        words = word_list("hangman_words")
        self.secret = words[int(rng.integers(len(words)))]
        self.lives = LIVES[self.options.difficulty]
        self.guessed: list[str] = []
        self.wrong_words: list[str] = []
        return f"The word has {len(self.secret)} letters. You have {self.lives} lives."

    def max_turns(self) -> int:
        return 2 * (len(ALPHABET) + LIVES[self.options.difficulty]) + 1

    def pattern(self) -> str:
        return "".join(c if c in self.guessed else "_" for c in self.secret)

    def play(self, action: str) -> Outcome:
        guess = action.lower()
        if not (guess.isascii() and guess.isalpha()):
            raise InvalidMove("expected one letter A-Z or the whole word")
        if len(guess) == 1:
            if guess in self.guessed:
                raise InvalidMove(f"{guess.upper()} was already guessed")
            self.guessed.append(guess)
            found = guess in self.secret
            if "_" not in self.pattern():
                return Outcome(f"{guess.upper()} completes the word {self.secret.upper()}: you win.", 1.0, True)
            said = f"{guess.upper()} is in the word." if found else f"{guess.upper()} is not in the word."
        elif guess == self.secret:
            return Outcome(f"{guess.upper()} is the word: you win.", reward=1.0, terminated=True)
        else:
            found = False
            self.wrong_words.append(guess)
            said = f"{guess.upper()} is not the word."
        if not found:
            self.lives -= 1
            if self.lives == 0:
                return Outcome(f"{said} No lives left: the word was {self.secret.upper()}. You lose.",
                               terminated=True)
        return Outcome(said)

    def board(self) -> str:
        misses = sorted({g for g in self.guessed if g not in self.secret})
        return (f"Word: {' '.join(self.pattern()).upper()}\nMissed letters: {' '.join(misses).upper() or '-'}\n"
                f"Lives: {self.lives}")

    def expert_action(self) -> str:
        """The word if only one listed word fits, else the letter found in the most words that fit."""
        pattern = self.pattern()
        fits = [w for w in word_list("hangman_words")
                if len(w) == len(pattern) and w not in self.wrong_words
                and all(p == c if p != "_" else c not in self.guessed for p, c in zip(pattern, w))]
        if len(fits) == 1:
            return fits[0].upper()
        letters = [c for c in ALPHABET if c not in self.guessed]
        return max(letters, key=lambda c: sum(c in w for w in fits)).upper()


class HangmanEnv(GameEnvironment):
    name = "hangman"
    description = "Hangman over a shipped list of common nouns (4-10 letters), 8/6/4 lives."
    Game = Hangman
