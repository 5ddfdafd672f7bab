"""Finding environment families through the `rewardgym.environments` entry-point group.

A family package declares, in its pyproject.toml:

    [project.entry-points."rewardgym.environments"]
    math = "rewardgym_math:FAMILY"

where `FAMILY` is a `Family`. A third-party package is found exactly like a built-in one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any
from importlib.metadata import entry_points

from rewardgym.sdk import Environment

ENTRY_POINT_GROUP = "rewardgym.environments"


@dataclass(frozen=True)
class WorkerContext:
    """What a worker tells its family's resources about where they run."""

    family: str
    processes: int
    """Scoring processes of this worker: how many use the resources at once."""
    work_dir: str
    """A directory of this worker's own, for the resources' files and sockets."""


class FamilyResources:
    """What a family sets up once per worker and hands to its environments (a pool of sandbox slots, a word list,
    a reference table): the worker calls `start` before its scoring processes exist and `stop` when it stops;
    every scoring process passes what `start` returned to each environment's `Environment.setup`.

    Subclass it and name the subclass in `Family(resources=...)`. The value `start` returns must be JSON (it
    crosses into the scoring processes); large or live things belong in files or sockets under `work_dir`.
    """

    def __init__(self, context: WorkerContext) -> None:
        self.context = context

    def start(self) -> Any:
        """Set up, in the worker process; return what the environments get (JSON: None, str, list, dict...)."""
        return None

    def stop(self) -> None:
        """Release what `start` set up."""


@dataclass(frozen=True)
class Family:
    """A group of environments that share dependencies and are hosted by one worker."""

    name: str
    environments: tuple[type[Environment], ...]
    resources: type[FamilyResources] | None = None
    """Set up once per worker where the family is hosted, handed to each environment's `setup`."""

    def instantiate(self) -> dict[str, Environment]:
        envs: dict[str, Environment] = {}
        for env_class in self.environments:
            env = env_class()
            if env.name in envs:
                raise ValueError(f"Family {self.name!r} defines environment {env.name!r} twice")
            envs[env.name] = env
        return envs


class FamilyNotFound(LookupError):
    pass


def installed_family_names() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def load_family(spec: str) -> Family:
    """Import one family by its entry-point name, or by `module:attribute` (tests, unpackaged families).

    Import errors propagate: a broken family must be loud.
    """
    if ":" in spec:
        module_name, _, attribute = spec.partition(":")
        family = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(family, Family):
            raise TypeError(f"Expected {spec!r} to be a rewardgym.Family, got {type(family).__name__}")
        return family
    name = spec
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not matches:
        known = ", ".join(installed_family_names()) or "none"
        raise FamilyNotFound(f"Expected an installed family named {name!r}; installed: {known}")
    family = matches[0].load()
    if not isinstance(family, Family):
        raise TypeError(f"Entry point {matches[0].value!r} must point to a rewardgym.Family, got {type(family).__name__}")
    return family
