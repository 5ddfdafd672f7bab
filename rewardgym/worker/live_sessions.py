"""Games kept open in a scoring process between a session's steps, so that a step costs one `env.step`.

A session's next step arrives as (env, seed, options, actions so far plus the new one) and may run in any scoring
process. The process that served the session's last step usually still holds that game open, at exactly the
position those actions lead to: the step then plays the new action on it instead of replaying the whole game
(for wordle, ~10 us instead of 50-100 us). Anywhere else (another process, one that was killed at a deadline,
recycled, or that dropped the game to make room) the step replays the game from (seed, options, actions), and
that process keeps the game from then on. Correctness never depends on where a step runs:

- a game is keyed by everything its position is a function of: (env, seed, options, the actions played), not by
  session; two sessions at the same position may take each other's game (the position is the same);
- a game is taken out while it plays, and put back only once the step has succeeded: a step that raises drops it,
  and a process killed at its deadline takes its games with it;
- a game put back under actions the worker never recorded (its answer was lost on the way) is only ever found
  again by a step replaying exactly those actions, where it is what a replay would rebuild.

At most `capacity` games are kept per process, least recently used dropped first (`$REWARDGYM_LIVE_GAMES`,
default 2048; 0 keeps none, and every step replays).
"""

from __future__ import annotations

import collections
import json
import os
from typing import Any, Mapping

from rewardgym import json_codec
from rewardgym.multiturn import Playthrough

CAPACITY_ENV_VAR = "REWARDGYM_LIVE_GAMES"
DEFAULT_CAPACITY = 2048

GameId = tuple[str, int, bytes]
"""(env, seed, options as canonical JSON): one game, before any action."""
GameKey = tuple[GameId, tuple[str, ...]]
"""A game and the actions played in it: one position."""


class LiveGames:
    """Open games by position, least recently used first; `take` one to play it, `keep` it once it has played."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._games: collections.OrderedDict[GameKey, list[Playthrough]] = collections.OrderedDict()
        self._count = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return self._count

    @staticmethod
    def game_id(env: str, seed: int, options: dict[str, Any]) -> GameId:
        return env, seed, json_codec.dumps(options, _canonical_json, sort_keys=True)

    def take(self, key: GameKey) -> Playthrough | None:
        """An open game at the position of `key`, now the caller's, or None (the caller replays)."""
        games = self._games.get(key)
        if not games:
            self.misses += 1
            return None
        game = games.pop()
        if not games:
            del self._games[key]
        self._count -= 1
        self.hits += 1
        return game

    def keep(self, key: GameKey, game: Playthrough) -> None:
        """Hold `game`, which stands at the position of `key`; the least recently used games go past capacity."""
        if self.capacity <= 0:
            game.close()
            return
        games = self._games.get(key)
        if games is None:
            self._games[key] = [game]
        else:
            games.append(game)
            self._games.move_to_end(key)
        self._count += 1
        while self._count > self.capacity:
            oldest, games = next(iter(self._games.items()))
            games.pop(0).close()
            self._count -= 1
            if not games:
                del self._games[oldest]

    def clear(self) -> None:
        for games in self._games.values():
            for game in games:
                game.close()
        self._games.clear()
        self._count = 0


def _canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def capacity_from_environ(environ: Mapping[str, str] = os.environ) -> int:
    """`$REWARDGYM_LIVE_GAMES`, else the default."""
    value = environ.get(CAPACITY_ENV_VAR, "")
    try:
        return int(value) if value else DEFAULT_CAPACITY
    except ValueError:
        raise ValueError(f"Expected an integer number of games in ${CAPACITY_ENV_VAR}, got {value!r}") from None


_process_games: LiveGames | None = None


def process_games() -> LiveGames:
    """This scoring process's open games (made on first use: a process forked from the fork server starts with
    none of its parent's)."""
    global _process_games
    if _process_games is None:
        _process_games = LiveGames(capacity_from_environ())
    return _process_games

