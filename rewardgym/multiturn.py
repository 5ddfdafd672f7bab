"""Multi-turn environments: text games played action by action, behind the same contract as single-turn scoring.

A `MultiTurnEnvironment` makes `gymnasium.Env`s whose observations and actions are text (`spaces.Text`). A game is
a pure function of (seed, options, actions): `replay` rebuilds any position from those three, so a session is kept
as (env, version, seed, options, actions so far) and any scoring process can serve its next step. The whole
episode can also be scored in one `POST /score/{env}`: the task is `{"seed", "options"}`, the completion the list
of actions, and `score` replays it through the ordinary single-turn path.

Completion format (a transcript of actions), read by `parse_actions`:

    ["CRANE", "SLOTH", "PIOUS"]        a JSON list of strings, or
    CRANE                              one action per line (blank lines are skipped)
    SLOTH

This module imports pydantic only; gymnasium is imported by the families that define games.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from pydantic import Field, create_model

from rewardgym.protocol import EnvInfo
from rewardgym.sdk import Environment, Generated, GenerateOptions, Score, TaskModel

if TYPE_CHECKING:
    import gymnasium

MAX_SEED = 2**63 - 1
"""Seeds are non-negative 64-bit integers (what `numpy.random.default_rng` accepts)."""
MAX_ACTIONS = 10_000
"""Transcripts with more actions are refused unread: no game here lasts that long."""
MAX_GENERATION_TRIES = 200
"""Seeds tried by `generate` before giving up on finding a winnable game."""
REWARD_TOLERANCE = 1e-9
TRANSCRIPT_HINT = ("Answer with all your actions at once: a JSON list of strings, or one action per line, "
                   "in the order you play them.")


class EpisodeTask(TaskModel):
    """The task of a multi-turn environment: everything needed to rebuild the game, and nothing more."""

    seed: int = Field(ge=0, le=MAX_SEED, description="Seed of the episode (gymnasium `reset(seed=...)`).")
    options: GenerateOptions = Field(default_factory=GenerateOptions,
                                     description="The environment's options (difficulty, ...).")


@dataclass(frozen=True)
class Episode:
    """A game replayed from (seed, options, actions): where it stands after the last action played.

    `reward` is the last step's reward (what `POST /v1/sessions/{id}/step` returns), `total_reward` the sum over
    the episode (what `POST /score/{env}` returns). Actions after the game ended are not played: `actions_played`
    counts those that were.
    """

    observation: str
    reward: float
    total_reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any] = field(default_factory=dict)
    actions_played: int = 0

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated


class Playthrough:
    """One game in play: a gymnasium env reset to (seed, options), and where it stands after the actions so far.

    `MultiTurnEnvironment.replay` plays one through and closes it; a scoring process keeps some open between a
    session's steps (rewardgym/worker/live_sessions.py). The same (seed, options, actions) give the same position
    either way: a game is a pure function of them.
    """

    def __init__(self, environment: "MultiTurnEnvironment", seed: int,
                 options: GenerateOptions | dict[str, Any] | None) -> None:
        if not 0 <= seed <= MAX_SEED:
            raise ValueError(f"Expected a seed in [0, {MAX_SEED}], got {seed}")
        self.name = environment.name
        self.env = environment.make()
        try:
            self.observation, self.info = self.env.reset(seed=seed,
                                                         options=environment.parse_options(options).model_dump())
        except BaseException:
            self.env.close()
            raise
        self.reward, self.total_reward = 0.0, 0.0
        self.terminated, self.truncated = False, False
        self.actions_played = 0

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    def play(self, action: str) -> None:
        """One action (the caller checks `done` first: gymnasium envs need not refuse a step after the end)."""
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.observation, self.reward, self.info = observation, float(reward), info
        self.terminated, self.truncated = bool(terminated), bool(truncated)
        self.total_reward += self.reward
        self.actions_played += 1

    def play_all(self, actions: Sequence[str], *, strict: bool) -> None:
        """Play `actions` in order; those after the end of the game are not played, or with `strict=True` raise
        `EpisodeOver` (a session must not step a finished game)."""
        for index, action in enumerate(actions):
            if self.done:
                if strict:
                    raise EpisodeOver(f"{self.name}: expected no action after the game ended at action "
                                      f"{self.actions_played}, got {len(actions) - index} more")
                return
            self.play(action)

    def episode(self) -> Episode:
        """Where the game stands (raises `ValueError` for an episode reward outside [0, 1]: an env bug)."""
        return Episode(observation=self.observation, reward=self.reward,
                       total_reward=_episode_reward(self.name, self.total_reward), terminated=self.terminated,
                       truncated=self.truncated, info=self.info, actions_played=self.actions_played)

    def step_value(self) -> dict[str, Any]:
        """`episode()` as a session's step reports it (a dict, without building the `Episode`: this runs per step)."""
        return {"observation": self.observation, "reward": self.reward,
                "total_reward": _episode_reward(self.name, self.total_reward), "terminated": self.terminated,
                "truncated": self.truncated, "info": self.info}

    def close(self) -> None:
        self.env.close()


class EpisodeOver(Exception):
    """A strict replay met an action after the game had ended (a session stepped after its last step)."""


class TranscriptError(ValueError):
    """The completion holds no readable list of actions; the message says what was expected."""


def parse_actions(completion: str) -> list[str]:
    """The actions of a transcript: a JSON list of strings, or else one action per non-blank line.

    Raises `TranscriptError` for a JSON-looking list that is not a list of strings, or for no actions at all.
    """
    text = completion.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise TranscriptError("Expected a JSON list of strings, got text that is not valid JSON") from exc
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise TranscriptError("Expected a JSON list of strings, got a list with other values")
        actions = [item.strip() for item in value]
    else:
        actions = [line.strip() for line in text.splitlines() if line.strip()]
    if not actions:
        raise TranscriptError("Expected at least one action, got none")
    if len(actions) > MAX_ACTIONS:
        raise TranscriptError(f"Expected at most {MAX_ACTIONS} actions, got {len(actions)}")
    return actions


def format_actions(actions: Sequence[str]) -> str:
    """A transcript in the canonical format (a JSON list), as `generate` writes reference solutions."""
    return json.dumps(list(actions))


class MultiTurnEnvironment(Environment[EpisodeTask]):
    """Base class of every multi-turn environment.

    Subclasses set `name`, `version`, `description`, `timeout_s` and `Options` (a `GenerateOptions` subclass with
    `difficulty`), and implement `make` (a fresh gymnasium env) and `solve` (a winning transcript, used by
    `generate` and `check_env`). `Task` is derived from `Options`: `{"seed": int, "options": Options}`.

    The game's rules live in the gymnasium env; this class only replays it. A game must be a pure function of
    (seed, options, actions): all its randomness comes from `self.np_random` as seeded by `reset(seed=...)`.
    """

    Task: ClassVar[type[TaskModel]] = EpisodeTask
    Options: ClassVar[type[GenerateOptions]] = GenerateOptions

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Task" not in cls.__dict__:  # the task schema names the env's own options, for the catalogue
            cls.Task = create_model(f"{cls.__name__}Task", __base__=EpisodeTask,
                                    options=(cls.Options, Field(default_factory=cls.Options)))

    def make(self) -> "gymnasium.Env[str, str]":
        """A fresh gymnasium env with `spaces.Text` observation and action spaces, not yet reset.

        `reset(seed=seed, options=options.model_dump())` starts a game; `step(action)` plays one action and
        returns `(observation, reward, terminated, truncated, info)`. `terminated` means the game ended by its
        rules (won, lost, drawn); `truncated` means it was cut off by the turn limit. Step rewards sum to the
        episode reward, in [0, 1]; `info` is a JSON-serialisable dict (the sessions API sends it as it is).
        """
        raise NotImplementedError

    def solve(self, seed: int, options: GenerateOptions) -> list[str] | None:
        """A transcript that wins the game of (seed, options) with reward 1, or None if none was found."""
        raise NotImplementedError(f"{type(self).__name__} must implement solve() or override generate()")

    def parse_options(self, options: GenerateOptions | dict[str, Any] | None) -> GenerateOptions:
        """Options as the env's own model; a dict is validated (pydantic `ValidationError` when it is bad)."""
        if isinstance(options, self.Options):
            return options
        if isinstance(options, GenerateOptions):
            options = options.model_dump()
        return self.Options.model_validate(options or {})

    def replay(self, seed: int, options: GenerateOptions | dict[str, Any] | None,
               actions: Sequence[str], *, strict: bool = False) -> Episode:
        """Play `actions` from a fresh game of (seed, options) and return where it stands.

        Deterministic: the same arguments give the same `Episode` in any process. With no actions it is the
        start of the game (`reset`'s observation and info). Actions after the end of the game are not played;
        with `strict=True` they raise `EpisodeOver` instead (a session must not step a finished game).
        Validate a client's (seed, options) first with `parse_task({"seed": ..., "options": ...})`.
        """
        game = Playthrough(self, seed, options)
        try:
            game.play_all(actions, strict=strict)
            return game.episode()
        finally:
            game.close()

    def score(self, task: EpisodeTask, completion: str) -> Score:
        """The reward of a whole transcript: the same as playing its actions one by one in a session."""
        try:
            actions = parse_actions(completion)
        except TranscriptError as exc:
            return Score.no_answer(str(exc))
        episode = self.replay(task.seed, task.options, actions)
        return Score(
            reward=episode.total_reward,
            components={"won": 1.0 if episode.total_reward >= 1.0 else 0.0},
            details={
                "actions": len(actions),
                "actions_played": episode.actions_played,
                "terminated": episode.terminated,
                "truncated": episode.truncated,
                "finished": episode.done,
                "final_observation": episode.observation[-1000:],
            },
        )

    def prompt(self, seed: int, options: GenerateOptions) -> str:
        """What the model sees first: the game's opening observation, then how to answer in one go."""
        return f"{self.replay(seed, options, []).observation}\n\n{TRANSCRIPT_HINT}"

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[EpisodeTask]:
        """A winnable game: seeds drawn from `rng` until `solve` finds a winning transcript for one."""
        options = self.parse_options(options)
        for _ in range(MAX_GENERATION_TRIES):
            seed = rng.randrange(2**31)
            actions = self.solve(seed, options)
            if actions is not None:
                task = self.Task(seed=seed, options=options)
                return Generated(prompt=self.prompt(seed, options), task=task, solution=format_actions(actions))
        raise RuntimeError(f"{self.name}: no winnable game found in {MAX_GENERATION_TRIES} seeds "
                           f"(options {options.model_dump()})")

    def info(self, family: str) -> EnvInfo:
        return super().info(family).model_copy(update={"kind": "multi"})


def _episode_reward(env_name: str, total: float) -> float:
    """Step rewards summed, with float noise (1/3 + 1/3 + 1/3) rounded away; outside [0, 1] is an env bug."""
    if math.isnan(total) or not -REWARD_TOLERANCE <= total <= 1.0 + REWARD_TOLERANCE:
        raise ValueError(f"{env_name}: expected an episode reward in [0, 1], got {total}")
    return min(1.0, max(0.0, round(total, 9)))
