"""`motif_search`: every match of an IUPAC motif in a DNA sequence, on one or both strands; F1 over the positions.

A position is the 1-based top-strand coordinate of a match's leftmost base; a bottom-strand match is a match of the
motif's reverse complement on the top strand. Overlapping matches count; a position found on both strands (a
palindromic motif) counts once.
"""

from __future__ import annotations

import random
from typing import Literal

from Bio.Data import IUPACData
from Bio.Seq import Seq
from Bio.SeqUtils import nt_search
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_bio.common import f1_answer, per_task, random_dna, require_dna, wrap

IUPAC = frozenset(IUPACData.ambiguous_dna_values) - {"X"}
"""A C G T and the ambiguity codes R Y S W K M B D H V N."""
MAX_MOTIF_LENGTH = 30
LENGTH_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (40, 80), "medium": (150, 400), "hard": (600, 1500)}
MOTIF_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (4, 5), "medium": (5, 7), "hard": (6, 9)}
AMBIGUOUS_BY_DIFFICULTY: dict[str, int] = {"easy": 1, "medium": 2, "hard": 3}
MATCHES_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (1, 3), "medium": (2, 5), "hard": (3, 8)}


class MotifTask(TaskModel):
    sequence: str = Field(description="DNA, 5'->3' top strand.")
    motif: str = Field(min_length=1, max_length=MAX_MOTIF_LENGTH, description="IUPAC nucleotide codes, 5'->3'.")
    strands: Literal["top", "both"]


class MotifOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 40-80 nt, 4-5 nt motif with one ambiguity code; medium: 150-400, 5-7 with two; hard: 0.6-1.5 kb, 6-9."""


@per_task
def gold_positions(task: MotifTask) -> list[int]:
    sequence = require_dna(task.sequence)
    motif = task.motif.upper()
    if set(motif) - IUPAC:
        raise InvalidTask(f"Expected a motif of IUPAC nucleotide codes, got {''.join(sorted(set(motif) - IUPAC))!r}")
    motifs = {motif, str(Seq(motif).reverse_complement())} if task.strands == "both" else {motif}
    return sorted({position + 1 for query in motifs for position in nt_search(sequence, query)[1:]})


def _plant(rng: random.Random, motif: str) -> str:
    """One concrete sequence matching `motif`."""
    return "".join(rng.choice(IUPACData.ambiguous_dna_values[code]) for code in motif)


class MotifSearchEnv(Environment[MotifTask]):
    name = "motif_search"
    description = (
        "Find every match of an IUPAC motif (R=A/G, Y=C/T, S, W, K, M, B, D, H, V, N) in a DNA sequence, on the top "
        "strand or on both (a bottom-strand match is a top-strand match of the motif's reverse complement). Answer "
        "the 1-based top-strand positions of each match's leftmost base, sorted, overlaps included, each position "
        "once, as integers separated by commas in <answer></answer> or \\boxed{} ('none' for no match). Reward: F1 "
        "between the answer and Biopython's nt_search positions (components precision, recall); no readable list "
        "-> no_answer."
    )
    Task = MotifTask
    Options = MotifOptions

    def score(self, task: MotifTask, completion: str) -> Score:
        gold = gold_positions(task)
        return f1_answer(completion, gold)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[MotifTask]:
        options = MotifOptions.model_validate(options.model_dump())
        length = rng.randint(*LENGTH_BY_DIFFICULTY[options.difficulty])
        motif = list(random_dna(rng, rng.randint(*MOTIF_BY_DIFFICULTY[options.difficulty])))
        for at in rng.sample(range(len(motif)), AMBIGUOUS_BY_DIFFICULTY[options.difficulty]):
            motif[at] = rng.choice("RYSWKMBDHVN")
        strands = "top" if options.difficulty == "easy" else rng.choice(["top", "both"])
        sequence = list(random_dna(rng, length))
        for _ in range(rng.randint(*MATCHES_BY_DIFFICULTY[options.difficulty])):
            planted = _plant(rng, "".join(motif))
            if strands == "both" and rng.random() < 0.5:
                planted = str(Seq(planted).reverse_complement())
            at = rng.randrange(0, length - len(planted))
            sequence[at : at + len(planted)] = planted
        task = MotifTask(sequence="".join(sequence), motif="".join(motif), strands=strands)
        where = ("on the top strand only" if strands == "top" else
                 "on both strands (a bottom-strand match is a top-strand match of the motif's reverse complement)")
        prompt = (f"Find every match of the IUPAC motif 5'-{task.motif}-3' (R = A/G, Y = C/T, S = G/C, W = A/T, "
                  "K = G/T, M = A/C, B = not A, D = not C, H = not G, V = not T, N = any) in this "
                  f"{length} nt DNA sequence (top strand, 5' to 3'), {where}.\n{wrap(task.sequence)}\nGive the 1-based "
                  "top-strand position of the leftmost base of each match, sorted ascending, overlapping matches "
                  "included, each position once, as integers separated by commas in <answer></answer> tags, or "
                  "<answer>none</answer> if there is no match.")
        gold = gold_positions(task)
        return Generated(prompt=prompt, task=task,
                         solution=f"<answer>{', '.join(map(str, gold)) if gold else 'none'}</answer>")
