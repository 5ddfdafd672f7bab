"""rewardgym: a reward server for RL from verifiable rewards.

The SDK names an environment author needs are re-exported here. Importing this package pulls in pydantic only;
server modules (gateway, worker) are imported by their own module names.
"""

from rewardgym.multiturn import Episode, EpisodeOver, EpisodeTask, MultiTurnEnvironment
from rewardgym.protocol import ScoreResult, Status
from rewardgym.sdk import (
    Environment,
    Example,
    Generated,
    GenerateOptions,
    InvalidTask,
    Score,
    TaskModel,
    task_rng,
)

__all__ = [
    "Environment",
    "Episode",
    "EpisodeOver",
    "EpisodeTask",
    "Example",
    "Family",
    "Generated",
    "GenerateOptions",
    "InvalidTask",
    "MultiTurnEnvironment",
    "Score",
    "ScoreResult",
    "Status",
    "TaskModel",
    "task_rng",
]

__version__ = "0.1.0"


def __getattr__(name: str):  # Family lives in registry, which imports importlib.metadata lazily
    if name == "Family":
        from rewardgym.registry import Family

        return Family
    raise AttributeError(name)
