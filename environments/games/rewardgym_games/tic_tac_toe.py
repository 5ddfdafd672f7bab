"""`tic_tac_toe`: three in a row on a 3x3 board, against a minimax opponent that errs with probability ε."""

from __future__ import annotations

from functools import cache

from rewardgym_games.environment import GameEnvironment
from rewardgym_games.textgame import InvalidMove, read_int
from rewardgym_games.twoplayer import X, BoardGame

LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))
EXPERT_ORDER = (4, 0, 2, 6, 8, 1, 3, 5, 7)
"""Among equally good moves the expert prefers the centre, then corners: they leave the opponent most ways to err."""
MARKS = "XO"


def has_line(board: str, mark: str) -> bool:
    return any(board[a] == board[b] == board[c] == mark for a, b, c in LINES)


@cache
def value(board: str, to_move: str) -> int:
    """Minimax value for the side to move: 1 win, 0 draw, -1 loss."""
    other = "O" if to_move == "X" else "X"
    if has_line(board, other):
        return -1
    empty = [i for i, cell in enumerate(board) if cell == "."]
    if not empty:
        return 0
    return max(-value(board[:i] + to_move + board[i + 1:], other) for i in empty)


def move_values(board: str, mark: str) -> dict[int, int]:
    other = "O" if mark == "X" else "X"
    return {i: -value(board[:i] + mark + board[i + 1:], other) for i, cell in enumerate(board) if cell == "."}


class TicTacToe(BoardGame):
    EPSILON = {"easy": 0.5, "medium": 0.25, "hard": 0.1}
    CELLS = 9
    title = "TIC-TAC-TOE"
    rules = ("Get three of your marks in a row, column or diagonal. Action: the number of an empty square, 1-9 "
             "(1 2 3 on the top row, 7 8 9 on the bottom). Reward: win 1, draw 0.5, loss 0.")

    def new_position(self) -> None:
        self.cells = "." * 9

    def read_move(self, action: str) -> int:
        square = read_int(action, 1, 9, "a square number") - 1
        if self.cells[square] != ".":
            raise InvalidMove(f"square {square + 1} is taken")
        return square

    def legal_moves(self) -> list[int]:
        if has_line(self.cells, "X") or has_line(self.cells, "O"):
            return []
        return [i for i, cell in enumerate(self.cells) if cell == "."]

    def apply(self, move: int, player: int) -> None:
        self.cells = self.cells[:move] + MARKS[player] + self.cells[move + 1:]

    def wins(self, player: int) -> bool:
        return has_line(self.cells, MARKS[player])

    def best_moves(self, player: int) -> list[int]:
        values = move_values(self.cells, MARKS[player])
        top = max(values.values())
        return [move for move, v in values.items() if v == top]

    def describe(self, move: int) -> str:
        return str(move + 1)

    def board(self) -> str:
        shown = [cell if cell != "." else str(i + 1) for i, cell in enumerate(self.cells)]
        rows = ["".join(shown[3 * r:3 * r + 3]) for r in range(3)]
        return "Board (digits are empty squares):\n" + "\n".join(" ".join(row) for row in rows)

    def expert_action(self) -> str:
        """A minimax-optimal move, the centre and corners first among equals."""
        best = set(self.best_moves(X))
        return str(next(move for move in EXPERT_ORDER if move in best) + 1)


class TicTacToeEnv(GameEnvironment):
    name = "tic_tac_toe"
    description = "Tic-tac-toe as X against a minimax O that plays at random 50/25/10% of the time; win 1, draw 0.5."
    Game = TicTacToe
