"""`gc_content`: the GC fraction of a DNA sequence, whole or in a stated window, within a stated tolerance."""

from __future__ import annotations

import random
from typing import Literal

from Bio.SeqUtils import gc_fraction
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_bio.answers import parse_number
from rewardgym_bio.common import numeric_answer, random_dna, require_dna, wrap

LENGTH_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (20, 60), "medium": (100, 300), "hard": (400, 1200)}
DEFAULT_TOLERANCE = 0.001
"""As a fraction: 0.1 percentage point, finer than any two windows of a few hundred nt differ by chance."""


class GcTask(TaskModel):
    sequence: str = Field(description="DNA, 5'->3'.")
    window: tuple[int, int] | None = Field(default=None,
                                           description="1-based inclusive (start, end); None for the whole sequence.")
    tolerance: float = Field(default=DEFAULT_TOLERANCE, gt=0, le=0.1, description="Absolute, as a fraction.")


class GcOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 20-60 nt, whole; medium: 100-300 nt; hard: 400-1200 nt (medium and hard: a window half the time)."""


def gold_fraction(task: GcTask) -> float:
    sequence = require_dna(task.sequence)
    if task.window is not None:
        start, end = task.window
        if not 1 <= start <= end <= len(sequence):
            raise InvalidTask(f"Expected a window 1 <= start <= end <= {len(sequence)}, got {task.window}")
        sequence = sequence[start - 1 : end]
    return gc_fraction(sequence, ambiguous="ignore")


class GcContentEnv(Environment[GcTask]):
    name = "gc_content"
    description = (
        "GC fraction (G+C over length) of a DNA sequence or of a 1-based inclusive window of it. Answer a number "
        "in <answer></answer> or \\boxed{}: a fraction (0.523), or a percentage (52.3%, or a bare number above 1). "
        "Reward 1.0 if within the task's tolerance (default 0.001 as a fraction) of Biopython's gc_fraction, else "
        "0.0; no readable number -> no_answer."
    )
    Task = GcTask
    Options = GcOptions

    def score(self, task: GcTask, completion: str) -> Score:
        gold = gold_fraction(task)
        return numeric_answer(completion, lambda text: parse_number(text, "fraction"), "a fraction or a percentage",
                              gold, task.tolerance + 1e-12)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[GcTask]:
        options = GcOptions.model_validate(options.model_dump())
        length = rng.randint(*LENGTH_BY_DIFFICULTY[options.difficulty])
        sequence = random_dna(rng, length, gc=rng.uniform(0.3, 0.7))
        window = None
        if options.difficulty != "easy" and rng.random() < 0.5:
            start = rng.randint(1, length // 2)
            window = (start, rng.randint(start + 9, length))
        task = GcTask(sequence=sequence, window=window)
        where = ("the whole sequence" if window is None
                 else f"the window from position {window[0]} to {window[1]} (1-based, both ends included)")
        prompt = (f"Here is a DNA sequence of {length} nt:\n{wrap(sequence)}\nWhat is the GC content of {where}, as "
                  f"the fraction of bases that are G or C? Answers within {task.tolerance} of the exact fraction "
                  "count as correct. Give the number (a fraction like 0.4375, or a percentage with %) in "
                  "<answer></answer> tags.")
        return Generated(prompt=prompt, task=task, solution=f"<answer>{gold_fraction(task):.4f}</answer>")
