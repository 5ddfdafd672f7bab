"""One environment per reasoning-gym dataset, made by `make_environment` from its registry entry.

A task is the dataset's item as JSON (gold answer and metadata, which its scorer reads) plus the difficulty it was
generated at, because some scorers read their config. The item for a seed is exactly reasoning-gym's item 0 of the
dataset built with that seed, so a task can be reproduced with reasoning-gym alone.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import math
import random
from typing import Any, ClassVar, Literal

import pydantic
from pydantic import Field, JsonValue
from reasoning_gym.dataset import ProceduralDataset

from rewardgym.sdk import Environment, Example, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_puzzles import catalogue, fixes
from rewardgym_puzzles.examples import stored_examples
from rewardgym_puzzles.extract import extract_answer

Difficulty = Literal["easy", "medium", "hard"]

ANSWER_INSTRUCTION = "\n\nGive your final answer inside <answer></answer> tags."
MAX_DETAIL_CHARS = 200
MAX_ANSWER_CHARS = 100_000
"""Answers longer than this and than twice the gold score 0 without reaching reasoning-gym's scorer, which was not
written for megabytes (the longest golds, tower_of_hanoi's move lists at hard, pass 100,000 characters)."""
SEED_BITS = 31
"""reasoning-gym seeds item i with `seed + i`; some datasets also seed numpy, which takes seeds below 2**32."""

REBUILT_PER_ITEM = frozenset({"acre", "gsm_symbolic", "list_functions"})
"""Datasets that draw from their seed when built, not only per item: built afresh for every task. The others
share one built dataset per difficulty and only change its seed (tests/puzzles check both ways agree)."""


class PuzzleTask(TaskModel):
    dataset: str = Field(description="The reasoning-gym dataset the item comes from.")
    difficulty: Difficulty = Field("medium", description="The difficulty it was generated at (its scorer may "
                                                         "read the config).")
    answer: str | None = Field(description="The gold answer (null where the dataset checks answers without one).")
    metadata: dict[str, JsonValue] = Field(description="The item's metadata, which its scorer reads.")


class PuzzleOptions(GenerateOptions):
    difficulty: Difficulty = "medium"
    """Each attribute of the dataset's reasoning-gym curriculum at its first (easy), middle or last (hard) level;
    `medium` only, for datasets without a curriculum (their default config)."""


@functools.lru_cache(maxsize=None)
def options_class(difficulties: tuple[str, ...]) -> type[PuzzleOptions]:
    """The options of a dataset that offers `difficulties` (one class per distinct set, shared)."""
    if difficulties == catalogue.DIFFICULTIES:
        return PuzzleOptions
    default = "medium" if "medium" in difficulties else difficulties[0]
    return pydantic.create_model(  # type: ignore[call-overload, no-any-return]
        "PuzzleOptions_" + "_".join(difficulties), __base__=PuzzleOptions, __module__=__name__,
        difficulty=(Literal[difficulties], default),  # type: ignore[valid-type]
    )


class PuzzleEnv(Environment[PuzzleTask]):
    """Base of the generated classes; `dataset` names the reasoning-gym dataset."""

    dataset: ClassVar[str]
    Task = PuzzleTask
    Options = PuzzleOptions

    def __init__(self) -> None:
        self._built: dict[str, ProceduralDataset] = {}
        self._examples: list[Example[PuzzleTask]] | None = None

    def score(self, task: PuzzleTask, completion: str) -> Score:
        if task.dataset != self.dataset:
            raise InvalidTask(f"Expected a task of dataset {self.dataset!r}, got {task.dataset!r}")
        difficulties = catalogue.served_difficulties(self.dataset)
        if task.difficulty not in difficulties:
            raise InvalidTask(f"Expected a difficulty among {difficulties}, got {task.difficulty!r}")
        answer = extract_answer(completion)
        if answer is None:
            return Score.no_answer("Expected an answer in <answer></answer> tags or \\boxed{}, found none",
                                   extracted=None)
        details: dict[str, Any] = {"extracted": answer.text[:MAX_DETAIL_CHARS], "form": answer.form}
        limit = max(MAX_ANSWER_CHARS, 2 * len(task.answer or ""))
        if len(answer.text) > limit:
            details["message"] = f"Expected an answer of at most {limit} characters, got {len(answer.text)}"
            return Score(reward=0.0, components={"correct": 0.0}, details=details)
        entry = {"answer": task.answer, "metadata": task.metadata}
        try:
            reward = fixes.score(self.dataset, self._built_dataset(task.difficulty), answer.text, entry)
        except fixes.WrongAnswer as exc:
            reward, details["message"] = 0.0, str(exc)
        if isinstance(reward, bool) or not isinstance(reward, (int, float)) or not 0.0 <= reward <= 1.0 \
                or math.isnan(reward):
            raise ValueError(f"Expected reasoning-gym's {self.dataset} scorer to return a number in [0, 1], "
                             f"got {reward!r}")
        return Score(reward=float(reward), components={"correct": float(reward == 1.0)}, details=details)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[PuzzleTask]:
        difficulty = options.difficulty
        seed = rng.getrandbits(SEED_BITS)
        if self.dataset in REBUILT_PER_ITEM:
            item = catalogue.make_dataset(self.dataset, difficulty, seed)[0]
        else:
            dataset = copy.copy(self._built_dataset(difficulty))
            dataset.seed, dataset.config = seed, dataclasses.replace(dataset.config, seed=seed)
            item = dataset[0]
        entry = json.loads(json.dumps({"answer": item["answer"], "metadata": item["metadata"]}))
        reference = entry["answer"]
        if reference is None:
            reference = fixes.REFERENCE_ANSWERS[self.dataset](entry)
        if not isinstance(reference, str):
            raise TypeError(f"Expected a str answer from reasoning-gym's {self.dataset}, "
                            f"got {type(reference).__name__}")
        task = PuzzleTask(dataset=self.dataset, difficulty=difficulty, answer=entry["answer"],
                          metadata=entry["metadata"])
        return Generated(prompt=item["question"] + ANSWER_INSTRUCTION, task=task,
                         solution=f"<answer>{reference}</answer>")

    def examples(self) -> list[Example[PuzzleTask]]:
        """One generated task at the easiest difficulty: the stored one (examples.py), else generated now."""
        if self._examples is None:
            stored = stored_examples().get(self.name)
            if stored is not None:
                example = Example(task=PuzzleTask.model_validate(stored["task"]), completion=stored["completion"])
            else:
                easiest = catalogue.served_difficulties(self.dataset)[0]
                generated = self.generate(random.Random(0), self.Options(difficulty=easiest))
                example = Example(task=generated.task, completion=generated.solution)
            self._examples = [example]
        return self._examples

    def _built_dataset(self, difficulty: str) -> ProceduralDataset:
        """The dataset at `difficulty`, built once (some load word lists or task files when built)."""
        if difficulty not in self._built:
            self._built[difficulty] = catalogue.make_dataset(self.dataset, difficulty, seed=0)
        return self._built[difficulty]


def make_environment(dataset: str) -> type[PuzzleEnv]:
    """The environment class `rg_<dataset>` serving reasoning-gym's `dataset`."""
    title = "".join(part.capitalize() for part in dataset.split("_"))
    return type(f"Rg{title}Env", (PuzzleEnv,), {
        "__module__": __name__,
        "__doc__": f"reasoning-gym's {dataset} dataset.",
        "name": f"rg_{dataset}",
        "dataset": dataset,
        "version": f"1.0.0+reasoning-gym.{catalogue.REASONING_GYM_VERSION}",
        "description": _description(dataset),
        "Options": options_class(catalogue.served_difficulties(dataset)),
    })


def _description(dataset: str) -> str:
    served = "/".join(catalogue.served_difficulties(dataset))
    difficulty = (f"options.difficulty {served} sets its curriculum's levels" if catalogue.has_difficulty(dataset)
                  else "its default config (difficulty medium only)")
    fixed = " Scored with our fix of its scorer (see the family README)." if dataset in fixes.SCORERS else ""
    return (f"reasoning-gym {catalogue.REASONING_GYM_VERSION} dataset {dataset!r} ({catalogue.describe(dataset)}). "
            f"Tasks from its generator ({difficulty}); answers extracted from the last <answer></answer>, else the "
            f"last \\boxed{{}}, and scored by its score_answer (rewards in [0, 1], partial credit as it gives it; "
            f"component correct is 1 only for a full score). Nothing extracted: no_answer; its scorer raising: "
            f"error (reward null).{fixed}")


def make_environments() -> tuple[type[PuzzleEnv], ...]:
    fixes.harden()
    return tuple(make_environment(dataset) for dataset in catalogue.served_datasets())
