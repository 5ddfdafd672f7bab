"""The environment SDK: what an environment author subclasses.

An environment is a verifier: given a task payload (typed by a pydantic model) and one completion, it returns a
`Score`. It never decides where it runs: the same class is hosted in-process, in a worker process, in a container
or on another node (docs/architecture.md, invariant 6). Deadlines are enforced from outside, by killing the process.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from rewardgym.protocol import EnvInfo, Status


class TaskModel(BaseModel):
    """Base for task payloads: unknown fields are refused so that typos in a task are caught, not ignored."""

    model_config = ConfigDict(extra="forbid")


class GenerateOptions(BaseModel):
    """Options of `generate`. Environments that take more subclass this and set `Environment.Options`."""

    model_config = ConfigDict(extra="forbid")

    difficulty: Literal["easy", "medium", "hard"] = "medium"


TaskT = TypeVar("TaskT", bound=TaskModel)


class InvalidTask(Exception):
    """Raised by `score` when the task itself is unusable (e.g. a gold answer that does not parse)."""


@dataclass(frozen=True)
class Score:
    """What `score` returns: a real verdict, `ok` or `no_answer` (the model gave nothing to check)."""

    reward: float
    status: Literal[Status.OK, Status.NO_ANSWER] = Status.OK
    components: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in (Status.OK, Status.NO_ANSWER):
            raise ValueError(f"Expected status ok or no_answer, got {self.status}; raise InvalidTask instead")
        if not 0.0 <= self.reward <= 1.0:
            raise ValueError(f"Expected a reward in [0, 1], got {self.reward}")

    @classmethod
    def no_answer(cls, message: str = "no answer found in the completion", **details: Any) -> "Score":
        return cls(reward=0.0, status=Status.NO_ANSWER, components={}, details={"message": message, **details})


@dataclass(frozen=True)
class Generated(Generic[TaskT]):
    """One generated task: the prompt shown to the model, the payload to score against, and a reference
    completion that scores 1 (used by `check_env`, never sent to the model)."""

    prompt: str
    task: TaskT
    solution: str


@dataclass(frozen=True)
class Example(Generic[TaskT]):
    """A worked example for the catalogue and for `check_env`: this completion on this task scores `reward`."""

    task: TaskT
    completion: str
    reward: float = 1.0


class Environment(Generic[TaskT]):
    """Base class of every single-turn environment.

    Subclasses set the class attributes and implement `score`; procedural environments also implement
    `generate`. Keep `score` a pure function of (task, completion): no global state, no network, no RNG.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = ""
    Task: ClassVar[type[TaskModel]]
    Options: ClassVar[type[GenerateOptions]] = GenerateOptions
    timeout_s: ClassVar[float] = 10.0
    """Default hard deadline of one item, in seconds."""
    max_timeout_s: ClassVar[float] = 60.0
    """Upper bound on a request's `timeout_s` for this environment."""

    def score(self, task: TaskT, completion: str) -> Score:
        """Judge one completion against one task.

        Return `Score(reward, ...)` for a verdict, `Score.no_answer(...)` when the completion holds nothing
        to check (reward 0: the model's fault). Raise `InvalidTask` when the task payload is unusable. Any other
        exception is reported as status `error` with reward null: an infrastructure failure, never a 0.
        """
        raise NotImplementedError

    def setup(self, resources: Any) -> None:
        """Prepare to score, once per scoring process, before its first item: `resources` is what the family's
        `FamilyResources.start` returned in the worker (None when the family has none). Runs only where scoring
        runs, never in the gateway or the worker's own process. Keep state set here read-only while scoring."""

    def close(self) -> None:
        """Release what `setup` acquired, when its scoring process stops (not when it is killed)."""

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[TaskT]:
        """Make one task from `rng` alone (a per-item `random.Random`, never the global one)."""
        raise NotImplementedError(f"{self.name} does not generate tasks")

    def examples(self) -> list[Example[TaskT]]:
        """Worked examples; by default, the generator's task for seed 0 with its reference solution."""
        if not self.generates_tasks():
            raise NotImplementedError(f"{type(self).__name__} must override examples() or generate()")
        generated = self.generate(random.Random(0), self.Options())
        return [Example(task=generated.task, completion=generated.solution, reward=1.0)]

    @classmethod
    def generates_tasks(cls) -> bool:
        return cls.generate is not Environment.generate

    def parse_task(self, payload: dict[str, Any]) -> TaskT:
        return self.Task.model_validate(payload)  # type: ignore[return-value]

    def info(self, family: str) -> EnvInfo:
        example = self.examples()[0]
        return EnvInfo(
            name=self.name,
            version=self.version,
            family=family,
            description=self.description,
            generates_tasks=self.generates_tasks(),
            task_schema=self.Task.model_json_schema(),
            example={"task": example.task.model_dump(mode="json"), "completion": example.completion},
            timeout_s=self.timeout_s,
            max_timeout_s=self.max_timeout_s,
        )


def task_rng(env_name: str, seed: int, index: int) -> random.Random:
    """The RNG of item `index` of a generation request: a pure function of (env, seed, index)."""
    return random.Random(f"{env_name}:{seed}:{index}")
