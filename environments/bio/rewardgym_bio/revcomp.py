"""`dna_revcomp`: the reverse complement of a DNA sequence, or its transcript (coding strand -> mRNA)."""

from __future__ import annotations

import random
from typing import Literal

from Bio.Seq import Seq
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, Score, TaskModel

from rewardgym_bio.answers import DNA, RNA, parse_sequence
from rewardgym_bio.common import exact_answer, random_dna, require_dna, wrap

NUCLEOTIDES = DNA | RNA
"""Read as a nucleotide sequence either way: T where U is due (or the reverse) is a wrong answer, not no answer."""
LENGTH_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (12, 30), "medium": (40, 120), "hard": (150, 400)}

Operation = Literal["reverse_complement", "transcribe"]


class RevcompTask(TaskModel):
    sequence: str = Field(description="DNA, 5'->3', A/C/G/T.")
    operation: Operation = Field(description="reverse_complement (DNA 5'->3') or transcribe (coding strand -> mRNA).")


class RevcompOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 12-30 nt; medium: 40-120 nt; hard: 150-400 nt."""


def gold_sequence(task: RevcompTask) -> str:
    seq = Seq(require_dna(task.sequence))
    return str(seq.reverse_complement() if task.operation == "reverse_complement" else seq.transcribe())


class RevcompEnv(Environment[RevcompTask]):
    name = "dna_revcomp"
    description = (
        "Reverse complement of a DNA sequence (answer DNA 5'->3'), or transcription of a coding strand into mRNA "
        "(T -> U, answer RNA 5'->3'). Answer in <answer></answer> or \\boxed{}; case, whitespace, line breaks, "
        "FASTA headers and 5'/3' labels are ignored. Reward 1.0 if the sequence equals Biopython's "
        "Seq.reverse_complement() / Seq.transcribe() exactly, else 0.0; no readable sequence -> no_answer."
    )
    Task = RevcompTask
    Options = RevcompOptions

    def score(self, task: RevcompTask, completion: str) -> Score:
        gold = gold_sequence(task)
        return exact_answer(completion, lambda text: parse_sequence(text, NUCLEOTIDES), "a nucleotide sequence", gold)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[RevcompTask]:
        options = RevcompOptions.model_validate(options.model_dump())
        length = rng.randint(*LENGTH_BY_DIFFICULTY[options.difficulty])
        task = RevcompTask(sequence=random_dna(rng, length), operation=rng.choice(["reverse_complement", "transcribe"]))
        if task.operation == "reverse_complement":
            ask = "Write its reverse complement as DNA, 5' to 3'."
        else:
            ask = "It is the coding (sense) strand of a gene. Write the mRNA transcribed from it, 5' to 3' (U for T)."
        prompt = (f"Here is a DNA sequence of {length} nt, 5' to 3':\n{wrap(task.sequence)}\n{ask} "
                  "Give the sequence in <answer></answer> tags.")
        return Generated(prompt=prompt, task=task, solution=f"<answer>{gold_sequence(task)}</answer>")
