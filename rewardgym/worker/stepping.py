"""A session's step, run in a scoring process: the game of (seed, options) replayed with the session's actions.

Called only from `execution.FamilyExecutor.run` (the one place environment code is called), under the pool's hard
deadline. Replaying keeps the scoring processes stateless: any of them can serve any session's next step, and a
step killed at its deadline loses only itself, because the session's actions change only when a step succeeds
(docs/architecture.md, "Sessions", has the measured cost of replaying).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from rewardgym.multiturn import EpisodeOver, MultiTurnEnvironment
from rewardgym.protocol import Status, describe_validation_error
from rewardgym.sdk import Environment
from rewardgym.worker.failures import environment_error
from rewardgym.worker.jobs import StepJob

EPISODE_OVER = "episode_over"
"""Key set in a failed step's value when the game had already ended (the session answers 409)."""


def play_step(env: Environment, job: StepJob) -> tuple[Status, dict[str, Any]]:
    """Where the game stands after `job.actions`: the last step's observation, reward and flags.

    `invalid_task` for a single-turn environment, bad seed or options, or an action after the game ended
    (`value[EPISODE_OVER]`); `error` when the environment raises."""
    if not isinstance(env, MultiTurnEnvironment):
        return Status.INVALID_TASK, {"message": f"Expected a multi-turn environment, got {env.name!r} (single-turn)"}
    try:
        task = env.parse_task({"seed": job.seed, "options": job.options})
    except ValidationError as exc:
        return Status.INVALID_TASK, {"message": describe_validation_error(exc, f"{env.name} session")}
    try:
        episode = env.replay(task.seed, task.options, job.actions, strict=True)
    except EpisodeOver as exc:
        return Status.INVALID_TASK, {"message": str(exc), EPISODE_OVER: True}
    except MemoryError:
        return Status.ERROR, {"message": "the step ran out of memory"}
    except Exception as exc:  # an environment bug fails this step only; the session keeps its state
        return Status.ERROR, environment_error(exc, env.name, "step")
    return Status.OK, {
        "observation": episode.observation,
        "reward": episode.reward,
        "total_reward": episode.total_reward,
        "terminated": episode.terminated,
        "truncated": episode.truncated,
        "info": episode.info,
    }
