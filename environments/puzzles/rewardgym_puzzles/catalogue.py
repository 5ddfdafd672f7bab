"""Which reasoning-gym datasets we serve, and how our `difficulty` option becomes their config.

The served list is reasoning-gym's own registry minus `LEFT_OUT` (each with its reason; the README lists them and
a test asserts the exact set, so a new exclusion is a visible change).
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any, Iterable

import reasoning_gym  # noqa: F401 - importing it fills the registry
from reasoning_gym.coaching import RangeAttributeDefinition, ScalarAttributeDefinition
from reasoning_gym.dataset import ProceduralDataset
from reasoning_gym.factory import CURRICULA, DATASETS

REASONING_GYM_VERSION = version("reasoning-gym")
DIFFICULTIES = ("easy", "medium", "hard")

HASH_SEEDED = ("its generator iterates over sets, so a task depends on the process's hash seed (PYTHONHASHSEED): "
               "the same seed gives different tasks in different worker processes")
NO_REFERENCE = "its items carry no reference answer ({}), so its scorer cannot be checked against the generator"

LEFT_OUT: dict[str, str] = {
    "composite": "not a dataset of its own: it mixes other datasets, which are served one by one",
    "boxnet": NO_REFERENCE.format("answer is None and the metadata holds no solution"),
    "rush_hour": NO_REFERENCE.format("only the minimum number of moves"),
    "codeio": "not deterministic per seed: it executes its tasks' reference programs, and the same seed gave two "
              "different tasks in one process",
    "isomorphic_strings": HASH_SEEDED,
    "knight_swap": HASH_SEEDED + "; also its curriculum's first level (4 nodes) fails its own validation",
    "polynomial_multiplication": HASH_SEEDED,
    "ransom_note": HASH_SEEDED,
    "word_ladder": HASH_SEEDED,
}


SLOW = "its generator takes over 5 s per item here (or never finishes)"
INVALID = "its curriculum's level makes a config that its own validation refuses"

UNSERVED_DIFFICULTIES: dict[str, dict[str, str]] = {
    "caesar_cipher": {"hard": INVALID + " (rotation must be in [1, 25])"},
    "jugs": {"medium": SLOW, "hard": SLOW},
    "n_queens": {"hard": SLOW},
    "rubiks_cube": {"medium": "its only reference answer (metadata example_correct_answer) solves 3x3 cubes, and "
                              "medium and hard make larger ones",
                    "hard": INVALID + " (cube_size must be less than 7)"},
    "sokoban": {"easy": SLOW},
    "survo": {"medium": INVALID + " (max_empty must be <= 9)", "hard": INVALID + " (max_empty must be <= 9)"},
    "zebra_puzzles": {"hard": SLOW},
}
"""Difficulties a served dataset does not offer, with the reason (its other difficulties are served)."""


def served_datasets() -> list[str]:
    return sorted(name for name in DATASETS if name not in LEFT_OUT)


def has_difficulty(name: str) -> bool:
    """Datasets with a reasoning-gym curriculum get easy/medium/hard; the others only their default config."""
    return name in CURRICULA


def served_difficulties(name: str) -> tuple[str, ...]:
    offered = DIFFICULTIES if has_difficulty(name) else ("medium",)
    return tuple(d for d in offered if d not in UNSERVED_DIFFICULTIES.get(name, {}))


def describe(name: str) -> str:
    dataset_cls, _ = DATASETS[name]
    category = dataset_cls.__module__.split(".")[1]
    summary = (dataset_cls.__doc__ or "").strip().splitlines()
    return f"{category}: {summary[0].strip()}" if summary else category


def make_dataset(name: str, difficulty: str, seed: int) -> ProceduralDataset:
    """reasoning-gym's dataset `name` at `difficulty`, whose item 0 is the task for `seed`."""
    dataset_cls, config_cls = DATASETS[name]
    config = config_cls(**config_arguments(name, difficulty), seed=seed, size=1)
    return dataset_cls(config=config)


def config_arguments(name: str, difficulty: str) -> dict[str, Any]:
    """The config fields set by `difficulty`: each curriculum attribute at its first (easy), middle (medium) or
    last (hard) level. A range attribute spans from its first level up to that one, as in reasoning-gym's
    default ("inclusive") curriculum mode, so harder configs widen the range rather than leave the easy end."""
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"Expected a difficulty among {DIFFICULTIES}, got {difficulty!r}")
    if not has_difficulty(name):
        if difficulty != "medium":
            raise ValueError(f"Expected difficulty 'medium' for {name} (it has no curriculum), got {difficulty!r}")
        return {}
    position = DIFFICULTIES.index(difficulty) / (len(DIFFICULTIES) - 1)
    arguments: dict[str, Any] = {}
    for attribute in CURRICULA[name]().attributes.values():
        levels = attribute.levels
        if isinstance(attribute, RangeAttributeDefinition):
            if attribute.ensure_interval and len(levels) > 1:
                high = round(position * (len(levels) - 2)) + 1
            else:
                high = round(position * (len(levels) - 1))
            values = list(_flatten((levels[0], levels[high])))
            arguments[attribute.lower_field_name] = min(values)
            arguments[attribute.upper_field_name] = max(values)
        elif isinstance(attribute, ScalarAttributeDefinition):
            arguments[attribute.field_name] = levels[round(position * (len(levels) - 1))]
        else:
            raise TypeError(f"Expected a range or scalar curriculum attribute in {name}, "
                            f"got {type(attribute).__name__}")
    return arguments


def _flatten(values: Iterable[Any]) -> Iterable[Any]:
    for value in values:
        if isinstance(value, (list, tuple)):
            yield from value
        else:
            yield value
