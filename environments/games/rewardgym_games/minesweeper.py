"""`minesweeper`: open every safe cell of a grid without opening a mine; the game opens the first region."""

from __future__ import annotations

from typing import Literal

import numpy as np

from rewardgym.sdk import GenerateOptions

from rewardgym_games.environment import GameEnvironment
from rewardgym_games.textgame import InvalidMove, Outcome, TextGame, read_cell

# difficulty: (rows, columns, mines)
SETTINGS = {"easy": (6, 6, 5), "medium": (8, 8, 10), "hard": (9, 9, 15)}
Cell = tuple[int, int]


class MinesweeperOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 6x6 with 5 mines; medium: 8x8 with 10; hard: 9x9 with 15."""


class Minesweeper(TextGame):
    Options = MinesweeperOptions
    title = "MINESWEEPER"
    rules = ("Open every cell that has no mine. An open cell shows how many of its 8 neighbours hold mines (. for "
             "none); # is a closed cell. Action: the row and column of a closed cell, e.g. 3 5 (rows and columns "
             "count from 1). Opening a mine loses. Reward 1 for opening every safe cell, else 0.")

    def start(self, rng: np.random.Generator) -> str:
        self.rows, self.cols, mines = SETTINGS[self.options.difficulty]
        cells = [(r, c) for r in range(self.rows) for c in range(self.cols)]
        self.mines = {cells[i] for i in rng.choice(len(cells), size=mines, replace=False)}
        self.open: set[Cell] = set()
        safe = [cell for cell in cells if cell not in self.mines]
        zeros = [cell for cell in safe if self.count(cell) == 0] or safe
        self.reveal(zeros[int(rng.integers(len(zeros)))])
        return f"{self.rows} rows, {self.cols} columns, {mines} mines. A first region is opened for you."

    def neighbours(self, cell: Cell) -> list[Cell]:
        r, c = cell
        return [(r + dr, c + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)
                if (dr or dc) and 0 <= r + dr < self.rows and 0 <= c + dc < self.cols]

    def count(self, cell: Cell) -> int:
        return sum(n in self.mines for n in self.neighbours(cell))

    def reveal(self, cell: Cell) -> None:
        """Open a safe cell, and the region around it while cells show 0."""
        stack = [cell]
        while stack:
            current = stack.pop()
            if current in self.open:
                continue
            self.open.add(current)
            if self.count(current) == 0:
                stack.extend(n for n in self.neighbours(current) if n not in self.open)

    def max_turns(self) -> int:
        return 2 * (self.rows * self.cols - len(self.mines)) + 1

    def play(self, action: str) -> Outcome:
        cell = read_cell(action, self.rows, self.cols)
        if cell in self.open:
            raise InvalidMove(f"cell {cell[0] + 1} {cell[1] + 1} is already open")
        if cell in self.mines:
            return Outcome(f"Cell {cell[0] + 1} {cell[1] + 1} is a mine: you lose.", terminated=True)
        self.reveal(cell)
        if len(self.open) + len(self.mines) == self.rows * self.cols:
            return Outcome("Every safe cell is open: you win.", reward=1.0, terminated=True)
        return Outcome(f"Cell {cell[0] + 1} {cell[1] + 1} is safe.")

    def board(self) -> str:
        lost = self.over and len(self.open) + len(self.mines) < self.rows * self.cols
        header = "   " + " ".join(str(c + 1) for c in range(self.cols))
        lines = [header]
        for r in range(self.rows):
            row = []
            for c in range(self.cols):
                if (r, c) in self.open:
                    row.append(str(self.count((r, c)) or "."))
                else:
                    row.append("*" if lost and (r, c) in self.mines else "#")
            lines.append(f"{r + 1:>2} " + " ".join(row))
        return "\n".join(lines)

    def expert_action(self) -> str:
        """A closed cell proven safe by the open numbers (single and subset rules); else the first closed one."""
        mines: set[Cell] = set()
        safe: set[Cell] = set()
        changed = True
        while changed and not safe:
            changed = False
            constraints = []
            for cell in sorted(self.open):
                around = self.neighbours(cell)
                closed = {n for n in around if n not in self.open and n not in mines}
                if closed:
                    constraints.append((frozenset(closed), self.count(cell) - sum(n in mines for n in around)))
            for closed, need in constraints:
                for other, other_need in constraints:
                    if other < closed:  # the cells of `closed` outside `other` hold need - other_need mines
                        rest, rest_need = closed - other, need - other_need
                        if rest_need == 0:
                            safe |= rest
                        elif rest_need == len(rest) and not rest <= mines:
                            mines |= rest
                            changed = True
                if need == 0:
                    safe |= closed
                elif need == len(closed) and not closed <= mines:
                    mines |= closed
                    changed = True
        closed_cells = sorted(safe) or [(r, c) for r in range(self.rows) for c in range(self.cols)
                                        if (r, c) not in self.open and (r, c) not in mines]
        r, c = closed_cells[0]
        return f"{r + 1} {c + 1}"


class MinesweeperEnv(GameEnvironment):
    name = "minesweeper"
    description = "Minesweeper on 6x6/8x8/9x9 grids with 5/10/15 mines; the first region is opened for you."
    Game = Minesweeper
