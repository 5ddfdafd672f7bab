"""Running one job against a family's environments, inside a scoring process.

This is the one place where an environment's code is called, so it is also the one place where its exceptions
are turned into statuses: `InvalidTask` -> `invalid_task`, anything else -> `error` (never reward 0).

A completion is text a model decoded, so it never holds a lone UTF-16 surrogate; one that does (a `\\ud800`
escape in the request's JSON) has each lone surrogate replaced by U+FFFD, as a UTF-8 decoder does with a bad byte,
and is scored as such: the item gets a verdict, and no environment has to survive a string that cannot be encoded.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from pydantic import ValidationError

from rewardgym.text import replace_lone_surrogates
from rewardgym.worker.failures import environment_error, truncate
from rewardgym.worker.jobs import GenerateJob, Job, Report, ScoreJob, StepJob, decode_job, encode_report
from rewardgym.worker.stepping import play_step
from rewardgym.protocol import Status, describe_validation_error
from rewardgym.registry import load_family
from rewardgym.sdk import Environment, InvalidTask, task_rng

class FamilyExecutor:
    """A family's environments, instantiated once per scoring process."""

    def __init__(self, envs: dict[str, Environment]) -> None:
        self.envs = envs
        self.resources: Any = None
        """What the environments were set up with (the worker's family resources)."""

    @classmethod
    def load(cls, family_spec: str, resources: Any = None) -> "FamilyExecutor":
        """The family's environments, each set up with what the worker's family resources handed over."""
        executor = cls(load_family(family_spec).instantiate())
        executor.resources = resources
        for env in executor.envs.values():
            env.setup(resources)
        return executor

    def close(self) -> None:
        for env in self.envs.values():
            env.close()

    def warm_up(self) -> None:
        """Score every environment's worked examples once, to fill import and parser caches."""
        for env in self.envs.values():
            for example in env.examples():
                self.score(env, ScoreJob(env.name, example.task.model_dump(mode="json"), example.completion))

    def run(self, job: Job) -> tuple[Status, dict[str, Any]]:
        env = self.envs.get(job.env)
        if env is None:
            return Status.ERROR, {"message": f"environment {job.env!r} is not hosted by this worker"}
        if isinstance(job, ScoreJob):
            return self.score(env, job)
        if isinstance(job, GenerateJob):
            return self.generate(env, job)
        if isinstance(job, StepJob):
            return play_step(env, job)
        return Status.ERROR, {"message": f"unknown job type {type(job).__name__}"}

    def score(self, env: Environment, job: ScoreJob) -> tuple[Status, dict[str, Any]]:
        try:
            task = env.parse_task(job.task)
        except ValidationError as exc:
            return Status.INVALID_TASK, {"message": describe_validation_error(exc, f"{env.name} task")}
        except RecursionError:
            return Status.INVALID_TASK, {"message": f"Expected a {env.name} task, got one nested too deeply to read"}
        try:
            score = env.score(task, replace_lone_surrogates(job.completion))
        except InvalidTask as exc:
            return Status.INVALID_TASK, {"message": truncate(str(exc))}
        except MemoryError:
            return Status.ERROR, {"message": "scoring ran out of memory"}
        except Exception as exc:  # an environment bug is an infrastructure failure: null, never 0
            return Status.ERROR, environment_error(exc, env.name, "score")
        return Status(score.status), {
            "reward": score.reward,
            "components": dict(score.components),
            "details": dict(score.details),
        }

    def generate(self, env: Environment, job: GenerateJob) -> tuple[Status, dict[str, Any]]:
        try:
            options = env.Options.model_validate(job.options)
        except ValidationError as exc:
            return Status.INVALID_TASK, {"message": describe_validation_error(exc, f"{env.name} options")}
        try:
            generated = env.generate(task_rng(env.name, job.seed, job.index), options)
        except Exception as exc:
            return Status.ERROR, environment_error(exc, env.name, "generate")
        return Status.OK, {"prompt": generated.prompt, "task": generated.task.model_dump(mode="json")}


def run_message(executor: FamilyExecutor, message: bytes, rss_kb: Callable[[], int]) -> bytes:
    """Run the job in `message` and encode its `Report`; whatever fails here is that job's `error`."""
    try:
        status, value = executor.run(decode_job(message))
        return encode_report(Report(status, value, rss_kb(), time.monotonic()))
    except Exception as exc:  # a job that cannot be read, or a result that cannot be JSON
        failure = {"message": truncate(f"the scoring process could not run this job or encode its result: "
                                        f"{type(exc).__name__}: {exc}")}
        return encode_report(Report(Status.ERROR, failure, rss_kb(), time.monotonic()))
