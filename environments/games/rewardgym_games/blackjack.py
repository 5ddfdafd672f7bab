"""`blackjack`: Gymnasium's Blackjack (infinite deck, dealer draws to 17), one to three hands per episode.

Each hand pays `1 / hands` for a win, half that for a push, 0 for a loss, on the step that ends it; the episode
reward is the sum, so 1 means every hand won. The deal is random, so no play wins every episode: the expert plays
the optimal policy of Sutton & Barto (2018, figure 5.2) for these rules, and `generate` hands out deals it
wins.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from gymnasium.envs.toy_text import blackjack
from gymnasium.envs.toy_text.blackjack import sum_hand, usable_ace

from rewardgym.sdk import GenerateOptions

from rewardgym_games.environment import GameEnvironment
from rewardgym_games.textgame import Outcome, TextGame, read_choice

HANDS = {"easy": 1, "medium": 2, "hard": 3}
MAX_ACTIONS_PER_HAND = 22
"""A hand can take at most 21 cards (aces count 1 when it matters) before it is over."""
ACTIONS = {"hit": 1, "h": 1, "stick": 0, "stand": 0, "s": 0}
CARD_NAMES = {1: "A", 10: "10"}


class BlackjackOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 1 hand; medium: 2; hard: 3 (reward 1 needs every hand won)."""


def cards(hand: list[int]) -> str:
    return " ".join(CARD_NAMES.get(card, str(card)) for card in hand)


def basic_strategy_hits(player_sum: int, dealer_card: int, soft: bool) -> bool:
    """Sutton & Barto's optimal policy for this game (dealer card 1 is an ace)."""
    if soft:
        return player_sum < 18 or (player_sum == 18 and dealer_card in (1, 9, 10))
    if player_sum >= 17:
        return False
    if player_sum >= 13:
        return dealer_card == 1 or dealer_card >= 7
    if player_sum == 12:
        return dealer_card not in (4, 5, 6)
    return True


class Blackjack(TextGame):
    Options = BlackjackOptions
    title = "BLACKJACK"
    rules = ("Get closer to 21 than the dealer without going over. Cards 2-10 count their value (J, Q, K are 10), "
             "an ace 1 or 11. The deck is infinite. The dealer shows one card and draws until 17 or more when you "
             "stick. Action: hit or stick (or h, s; stand means stick). Each hand pays 1/hands for a win, half that "
             "for a draw, 0 for a loss; the episode reward is the sum.")

    def start(self, rng: np.random.Generator) -> str:
        self.hands = HANDS[self.options.difficulty]
        self.hand = 1
        self.inner = blackjack.BlackjackEnv()
        self.inner.reset(seed=int(rng.integers(2**31)))
        return f"{self.hands} hand(s) to play. Hand 1 is dealt."

    def max_turns(self) -> int:
        return 2 * MAX_ACTIONS_PER_HAND * self.hands

    def play(self, action: str) -> Outcome:
        hit = read_choice(action, ACTIONS, "hit or stick")
        _, result, hand_over, _, _ = self.inner.step(hit)
        if not hand_over:
            return Outcome(f"You draw a {cards(self.inner.player[-1:])}.")
        verdict = {1.0: "you win the hand", 0.0: "a draw", -1.0: "you lose the hand"}[float(result)]
        reward = {1.0: 1.0, 0.0: 0.5, -1.0: 0.0}[float(result)] / self.hands
        said = (f"You bust with {sum_hand(self.inner.player)}" if sum_hand(self.inner.player) > 21 else
                f"You have {sum_hand(self.inner.player)}; the dealer has {cards(self.inner.dealer)} = "
                f"{sum_hand(self.inner.dealer)}")
        if self.hand == self.hands:
            return Outcome(f"{said}: {verdict}. That was the last hand.", reward=reward, terminated=True)
        self.hand += 1
        self.inner.reset()
        return Outcome(f"{said}: {verdict}. Hand {self.hand} is dealt.", reward=reward)

    def board(self) -> str:
        player = self.inner.player
        soft = " (soft: an ace counts 11)" if usable_ace(player) else ""
        return (f"Hand {self.hand} of {self.hands}. Dealer shows {cards(self.inner.dealer[:1])}. Your cards: "
                f"{cards(player)} = {sum_hand(player)}{soft}.")

    def expert_action(self) -> str:
        player = self.inner.player
        hits = basic_strategy_hits(sum_hand(player), self.inner.dealer[0], bool(usable_ace(player)))
        return "hit" if hits else "stick"


class BlackjackEnv(GameEnvironment):
    name = "blackjack"
    description = "Gymnasium Blackjack, 1/2/3 hands per episode; each hand pays 1/hands for a win, half for a draw."
    Game = Blackjack
