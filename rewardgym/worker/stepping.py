"""A session's step, run in a scoring process: the game of (seed, options) after the session's actions.

Called only from `execution.FamilyExecutor.run` (the one place environment code is called), under the pool's hard
deadline. The game is played on from where this process left it when it still holds it open (live_sessions.py),
else replayed from (seed, options, actions): either way any scoring process can serve any session's next step, and
a step killed at its deadline loses only itself, because the session's actions change only when a step succeeds
(docs/architecture.md, "Sessions").
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from rewardgym.multiturn import EpisodeOver, MultiTurnEnvironment, Playthrough
from rewardgym.protocol import Status, describe_validation_error
from rewardgym.sdk import Environment
from rewardgym.worker.failures import environment_error
from rewardgym.worker.jobs import StepJob
from rewardgym.worker.live_sessions import GameId, LiveGames, process_games

EPISODE_OVER = "episode_over"
"""Key set in a failed step's value when the game had already ended (the session answers 409)."""
OPEN_GAME = "open_game"
"""Key of a step's value: whether it was played on a game this process held open (else the game was rebuilt)."""


def play_step(env: Environment, job: StepJob, games: LiveGames | None = None) -> tuple[Status, dict[str, Any]]:
    """Where the game stands after `job.actions`: the last step's observation, reward and flags.

    `games`: the open games to play on and keep (default: this process's). `invalid_task` for a single-turn
    environment, bad seed or options, or an action after the game ended (`value[EPISODE_OVER]`); `error` when the
    environment raises (its game is then dropped, never kept half-played)."""
    if not isinstance(env, MultiTurnEnvironment):
        return Status.INVALID_TASK, {"message": f"Expected a multi-turn environment, got {env.name!r} (single-turn)"}
    games = process_games() if games is None else games
    game_id = games.game_id(env.name, job.seed, job.options)
    if job.actions:
        game = games.take((game_id, tuple(job.actions[:-1])))
        if game is not None:  # open at the position before the new action: play that one only
            return _play(games, game_id, job.actions, game, job.actions[-1:], opened=True)
    try:
        task = env.parse_task({"seed": job.seed, "options": job.options})
    except ValidationError as exc:
        return Status.INVALID_TASK, {"message": describe_validation_error(exc, f"{env.name} session")}
    try:
        game = Playthrough(env, task.seed, task.options)
    except Exception as exc:
        return _failed(env.name, exc)
    return _play(games, game_id, job.actions, game, job.actions, opened=False)


def _play(games: LiveGames, game_id: GameId, actions: list[str], game: Playthrough,
          to_play: list[str], opened: bool) -> tuple[Status, dict[str, Any]]:
    """Play `to_play` (the end of `actions`) on `game` and keep it open at its new position; a failure closes it."""
    try:
        game.play_all(to_play, strict=True)
        value = game.step_value()
    except Exception as exc:
        game.close()
        return _failed(game.name, exc)
    if game.done:  # no step follows the last one: the worker refuses it unplayed
        game.close()
    else:
        games.keep((game_id, tuple(actions)), game)
    value[OPEN_GAME] = opened
    return Status.OK, value


def _failed(env_name: str, exc: Exception) -> tuple[Status, dict[str, Any]]:
    if isinstance(exc, EpisodeOver):
        return Status.INVALID_TASK, {"message": str(exc), EPISODE_OVER: True}
    if isinstance(exc, MemoryError):
        return Status.ERROR, {"message": "the step ran out of memory"}
    return Status.ERROR, environment_error(exc, env_name, "step")  # an env bug fails this step; the session is kept
