"""`isoelectric_point`: a protein's pI by Biopython's method (Bjellqvist pK values, bisection), within 0.05."""

from __future__ import annotations

import random
from typing import Literal

from Bio.SeqUtils.IsoelectricPoint import IsoelectricPoint
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, Score, TaskModel

from rewardgym_bio.answers import parse_number
from rewardgym_bio.common import numeric_answer, random_protein, require_protein, wrap

LENGTH_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (5, 15), "medium": (30, 100), "hard": (150, 400)}
TOLERANCE = 0.05
"""pH units: the bisection stops at 1e-4; 0.05 separates methods (EMBOSS vs Bjellqvist differ by ~0.1-0.5)."""


class PiTask(TaskModel):
    sequence: str = Field(description="Protein, one-letter code, N- to C-terminus.")


class PiOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 5-15 residues; medium: 30-100; hard: 150-400."""


def gold_pi(task: PiTask) -> float:
    return IsoelectricPoint(require_protein(task.sequence)).pi(pH=7.775, min_=4.05, max_=12)


class IsoelectricPointEnv(Environment[PiTask]):
    name = "isoelectric_point"
    description = (
        "Isoelectric point of a protein as Biopython computes it (Bio.SeqUtils.IsoelectricPoint: Bjellqvist et al. "
        "pK values with N-/C-terminal pKs depending on the terminal residue, charge from Henderson-Hasselbalch, "
        "bisection between pH 4.05 and 12 to 1e-4). Answer a number in <answer></answer> or \\boxed{}. Reward 1.0 "
        "within 0.05 pH units, else 0.0; no readable number -> no_answer."
    )
    Task = PiTask
    Options = PiOptions

    def score(self, task: PiTask, completion: str) -> Score:
        gold = gold_pi(task)
        return numeric_answer(completion, lambda text: parse_number(text.removeprefix("pI").strip(" =:"), "plain"),
                              "a pH value", gold, TOLERANCE)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[PiTask]:
        options = PiOptions.model_validate(options.model_dump())
        task = PiTask(sequence=random_protein(rng, rng.randint(*LENGTH_BY_DIFFICULTY[options.difficulty])))
        prompt = (f"Compute the isoelectric point (pI) of this protein ({len(task.sequence)} residues):\n"
                  f"{wrap(task.sequence)}\nUse Biopython's method (Bio.SeqUtils.IsoelectricPoint): the pK values of "
                  "Bjellqvist et al. for side chains and termini (terminal pKs depend on the terminal residues), net "
                  "charge by Henderson-Hasselbalch, and the pH where it is zero found by bisection between 4.05 and "
                  f"12. Answers within {TOLERANCE} count as correct. Give the pI in <answer></answer> tags.")
        return Generated(prompt=prompt, task=task, solution=f"<answer>{gold_pi(task):.2f}</answer>")
