"""`battleship`: sink a hidden fleet within a budget of shots; each shot is answered miss, hit or sunk."""

from __future__ import annotations

from functools import cache
from typing import Literal

import numpy as np

from rewardgym.sdk import GenerateOptions

from rewardgym_games.environment import GameEnvironment
from rewardgym_games.textgame import InvalidMove, Outcome, TextGame, read_cell

# difficulty: (grid size, ship lengths, shots)
SETTINGS = {"easy": (6, (3, 2, 2), 30), "medium": (8, (4, 3, 3, 2), 45), "hard": (10, (5, 4, 3, 3, 2), 60)}
Cell = tuple[int, int]


class BattleshipOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 6x6, ships 3 2 2, 30 shots; medium: 8x8, ships 4 3 3 2, 45 shots; hard: 10x10, ships 5 4 3 3 2, 60."""


@cache
def placements(size: int, length: int) -> tuple[tuple[Cell, ...], ...]:
    """Every horizontal and vertical position of a ship of `length` on a size x size grid, in a fixed order."""
    spots = []
    for r in range(size):
        for c in range(size):
            if c + length <= size:
                spots.append(tuple((r, c + i) for i in range(length)))
            if r + length <= size:
                spots.append(tuple((r + i, c) for i in range(length)))
    return tuple(spots)


class Battleship(TextGame):
    Options = BattleshipOptions
    title = "BATTLESHIP"
    rules = ("Sink every hidden ship. Ships lie in straight horizontal or vertical lines and do not overlap. Action: "
             "the row and column of a cell you have not shot yet, e.g. 3 5 (from 1). Each shot is a miss, a hit, or "
             "a hit that sinks a ship (its length is told). Reward 1 for sinking every ship within the shots.")

    def start(self, rng: np.random.Generator) -> str:
        self.size, lengths, self.shots = SETTINGS[self.options.difficulty]
        self.ships: list[tuple[Cell, ...]] = []
        taken: set[Cell] = set()
        for length in lengths:
            free = [spot for spot in placements(self.size, length) if not taken & set(spot)]
            ship = free[int(rng.integers(len(free)))]
            self.ships.append(ship)
            taken |= set(ship)
        self.fired: dict[Cell, str] = {}  # cell -> "o" miss, "X" hit, "#" part of a sunk ship
        return (f"{self.size}x{self.size} grid, ships of lengths {' '.join(map(str, lengths))}. "
                f"You have {self.shots} shots.")

    def max_turns(self) -> int:
        return 2 * self.shots + 1

    def play(self, action: str) -> Outcome:
        cell = read_cell(action, self.size, self.size)
        if cell in self.fired:
            raise InvalidMove(f"cell {cell[0] + 1} {cell[1] + 1} was already shot")
        ship = next((ship for ship in self.ships if cell in ship), None)
        self.fired[cell] = "o" if ship is None else "X"
        said = f"{cell[0] + 1} {cell[1] + 1}: miss."
        if ship is not None and all(self.fired.get(part) for part in ship):
            for part in ship:
                self.fired[part] = "#"
            said = f"{cell[0] + 1} {cell[1] + 1}: hit, and a ship of length {len(ship)} sinks."
            if all(self.fired.get(part) == "#" for s in self.ships for part in s):
                return Outcome(f"{said} Every ship is sunk: you win.", reward=1.0, terminated=True)
        elif ship is not None:
            said = f"{cell[0] + 1} {cell[1] + 1}: hit."
        if len(self.fired) >= self.shots:
            return Outcome(f"{said} No shots left: you lose.", terminated=True)
        return Outcome(said)

    def board(self) -> str:
        lines = ["   " + " ".join(f"{c + 1:>2}" for c in range(self.size))]
        for r in range(self.size):
            lines.append(f"{r + 1:>2} " + " ".join(f"{self.fired.get((r, c), '.'):>2}" for c in range(self.size)))
        lines.append(f"o miss, X hit, # sunk. Shots left: {self.shots - len(self.fired)}")
        return "\n".join(lines)

    def expert_action(self) -> str:
        """Probability density: the unshot cell covered by the most positions of the ships still afloat that fit
        the shots so far, counting only positions through an unsunk hit while there is one."""
        afloat = [len(ship) for ship in self.ships if not all(self.fired.get(part) == "#" for part in ship)]
        hits = {cell for cell, mark in self.fired.items() if mark == "X"}
        blocked = {cell for cell, mark in self.fired.items() if mark != "X"}
        density: dict[Cell, int] = {}
        for length in afloat:
            for spot in placements(self.size, length):
                if blocked.isdisjoint(spot) and (not hits or not hits.isdisjoint(spot)):
                    weight = 1 + 10 * len(hits.intersection(spot))
                    for cell in spot:
                        if cell not in self.fired:
                            density[cell] = density.get(cell, 0) + weight
        r, c = max(sorted(density), key=lambda cell: density[cell]) if density else next(
            (r, c) for r in range(self.size) for c in range(self.size) if (r, c) not in self.fired)
        return f"{r + 1} {c + 1}"


class BattleshipEnv(GameEnvironment):
    name = "battleship"
    description = "Battleship: sink a hidden fleet on 6x6/8x8/10x10 grids within 30/45/60 shots."
    Game = Battleship
