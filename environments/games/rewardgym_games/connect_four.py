"""`connect_four`: four in a row on a 7x6 board, against an alpha-beta opponent that errs with probability ε.

Bitboards: column c, row r (0 at the bottom) is bit 7c + r; the seventh bit of each column stays empty so that
shifted lines never wrap. Evaluation at the search horizon: the classic cell-weight table (a cell's count of
possible lines of four), own minus opponent's.
"""

from __future__ import annotations

from rewardgym_games.environment import GameEnvironment
from rewardgym_games.textgame import InvalidMove, read_int
from rewardgym_games.twoplayer import O, X, BoardGame

COLUMNS, ROWS = 7, 6
ORDER = (3, 2, 4, 1, 5, 0, 6)
"""Centre columns first: better moves are searched first, so alpha-beta cuts more."""
DEPTH = {"easy": 1, "medium": 2, "hard": 4}
EXPERT_DEPTH = 4
WIN_SCORE = 10_000
_WEIGHTS = ((3, 4, 5, 5, 4, 3), (4, 6, 8, 8, 6, 4), (5, 8, 11, 11, 8, 5), (7, 10, 13, 13, 10, 7),
            (5, 8, 11, 11, 8, 5), (4, 6, 8, 8, 6, 4), (3, 4, 5, 5, 4, 3))  # [column][row]
M1, M2, M4, M8 = (sum(1 << (7 * c + r) for c in range(COLUMNS) for r in range(ROWS) if _WEIGHTS[c][r] & bit)
                  for bit in (1, 2, 4, 8))
"""Cells whose weight has bit 1, 2, 4, 8 set: a weighted count is four popcounts."""


def has_four(bits: int) -> bool:
    for shift in (1, 7, 6, 8):  # vertical, horizontal, two diagonals
        pairs = bits & (bits >> shift)
        if pairs & (pairs >> 2 * shift):
            return True
    return False


def evaluate(mine: int, theirs: int) -> int:
    return (((mine & M1).bit_count() - (theirs & M1).bit_count())
            + 2 * ((mine & M2).bit_count() - (theirs & M2).bit_count())
            + 4 * ((mine & M4).bit_count() - (theirs & M4).bit_count())
            + 8 * ((mine & M8).bit_count() - (theirs & M8).bit_count()))


def negamax(mine: int, theirs: int, heights: list[int], depth: int, alpha: int, beta: int) -> int:
    """Value for the side to move (`mine`), searched `depth` plies; wins sooner score higher."""
    if has_four(theirs):
        return -WIN_SCORE - depth
    moves = [c for c in ORDER if heights[c] < ROWS]
    if not moves:
        return 0
    if depth == 0:
        return evaluate(mine, theirs)
    best = -2 * WIN_SCORE
    for column in moves:
        bit = 1 << (7 * column + heights[column])
        heights[column] += 1
        score = -negamax(theirs, mine | bit, heights, depth - 1, -beta, -alpha)
        heights[column] -= 1
        if score > best:
            best = score
        alpha = max(alpha, score)
        if alpha >= beta:
            break
    return best


class ConnectFour(BoardGame):
    EPSILON = {"easy": 0.5, "medium": 0.25, "hard": 0.1}
    CELLS = COLUMNS * ROWS
    title = "CONNECT FOUR"
    rules = ("Drop discs into a 7-column, 6-row grid; get four of yours in a row, column or diagonal. Action: a "
             "column number 1-7 that is not full. Reward: win 1, draw 0.5, loss 0.")

    def new_position(self) -> None:
        self.bits = [0, 0]
        self.heights = [0] * COLUMNS

    def read_move(self, action: str) -> int:
        column = read_int(action, 1, COLUMNS, "a column number") - 1
        if self.heights[column] >= ROWS:
            raise InvalidMove(f"column {column + 1} is full")
        return column

    def legal_moves(self) -> list[int]:
        if has_four(self.bits[X]) or has_four(self.bits[O]):
            return []
        return [c for c in range(COLUMNS) if self.heights[c] < ROWS]

    def apply(self, move: int, player: int) -> None:
        self.bits[player] |= 1 << (7 * move + self.heights[move])
        self.heights[move] += 1

    def wins(self, player: int) -> bool:
        return has_four(self.bits[player])

    def move_values(self, player: int, depth: int) -> dict[int, int]:
        values = {}
        for column in ORDER:
            if self.heights[column] < ROWS:
                bit = 1 << (7 * column + self.heights[column])
                self.heights[column] += 1
                values[column] = -negamax(self.bits[1 - player], self.bits[player] | bit, self.heights,
                                          depth - 1, -2 * WIN_SCORE, 2 * WIN_SCORE)
                self.heights[column] -= 1
        return values

    def best_moves(self, player: int) -> list[int]:
        values = self.move_values(player, DEPTH[self.options.difficulty])
        top = max(values.values())
        return sorted(column for column, v in values.items() if v == top)

    def describe(self, move: int) -> str:
        return f"column {move + 1}"

    def board(self) -> str:
        rows = []
        for r in reversed(range(ROWS)):
            cells = []
            for c in range(COLUMNS):
                bit = 1 << (7 * c + r)
                cells.append("X" if self.bits[X] & bit else "O" if self.bits[O] & bit else ".")
            rows.append(" ".join(cells))
        return "\n".join(rows + [" ".join(str(c + 1) for c in range(COLUMNS))])

    def expert_action(self) -> str:
        """The best column by a depth-4 alpha-beta search, centre columns first among equals."""
        values = self.move_values(X, EXPERT_DEPTH)
        top = max(values.values())
        return str(next(column for column in ORDER if values.get(column) == top) + 1)


class ConnectFourEnv(GameEnvironment):
    name = "connect_four"
    description = ("Connect four as X (first) against an alpha-beta O of depth 1/2/4 that plays at random "
                   "50/25/10% of the time; win 1, draw 0.5.")
    Game = ConnectFour
