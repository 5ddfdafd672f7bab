"""The games family: multi-turn text games (gymnasium envs with text spaces), hosted by one worker."""

from rewardgym.registry import Family

from rewardgym_games.battleship import BattleshipEnv
from rewardgym_games.blackjack import BlackjackEnv
from rewardgym_games.connect_four import ConnectFourEnv
from rewardgym_games.hangman import HangmanEnv
from rewardgym_games.mastermind import MastermindEnv
from rewardgym_games.minesweeper import MinesweeperEnv
from rewardgym_games.tic_tac_toe import TicTacToeEnv
from rewardgym_games.toy_text import CliffWalkingEnv, FrozenLakeEnv, TaxiEnv
from rewardgym_games.wordle import WordleEnv

FAMILY = Family(
    name="games",
    environments=(
        WordleEnv,
        MastermindEnv,
        TicTacToeEnv,
        ConnectFourEnv,
        FrozenLakeEnv,
        TaxiEnv,
        BlackjackEnv,
        CliffWalkingEnv,
        HangmanEnv,
        MinesweeperEnv,
        BattleshipEnv,
    ),
)

__all__ = ["FAMILY"]
