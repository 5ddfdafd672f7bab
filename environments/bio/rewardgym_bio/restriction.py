"""`restriction_digest`: cut positions or fragment lengths of a DNA cut by a stated enzyme panel; F1 over the set.

A cut position is the 1-based coordinate of the first top-strand nucleotide after the cut (Biopython's
`Restriction` convention): the cut lies between positions p-1 and p. Fragments are counted between consecutive
distinct cuts (and the ends, when linear; around the origin, when circular).
"""

from __future__ import annotations

import random
from typing import Literal

from Bio import Restriction
from Bio.Seq import Seq
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_bio.common import f1_answer, per_task, random_dna, require_dna, wrap

PANEL = ("EcoRI", "BamHI", "HindIII", "XhoI", "PstI", "SalI", "KpnI", "SacI", "XbaI", "NcoI", "NdeI", "EcoRV",
         "BglII", "SpeI", "NheI", "SmaI", "ApaI", "NotI")
"""Type II enzymes that cut inside their site (no type IIS: their cut positions need more explanation)."""

LENGTH_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (60, 150), "medium": (300, 800), "hard": (1000, 3000)}
ENZYMES_BY_DIFFICULTY: dict[str, int] = {"easy": 1, "medium": 2, "hard": 3}
SITES_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (1, 2), "medium": (2, 4), "hard": (3, 7)}


class DigestTask(TaskModel):
    sequence: str = Field(description="DNA, 5'->3' top strand.")
    enzymes: list[str] = Field(min_length=1, max_length=10, description="Enzyme names as REBASE spells them.")
    topology: Literal["linear", "circular"]
    report: Literal["cut_positions", "fragment_lengths"]


class DigestOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 60-150 nt, one enzyme; medium: 300-800 nt, two; hard: 1-3 kb, three, circular half the time."""


def cut_positions(task: DigestTask) -> list[int]:
    """Sorted distinct cut positions of the whole panel, by Biopython's Restriction search."""
    sequence = require_dna(task.sequence)
    unknown = [name for name in task.enzymes if name not in Restriction.AllEnzymes]
    if unknown:
        raise InvalidTask(f"Expected enzyme names known to Biopython's Restriction (REBASE), got {unknown}")
    batch = Restriction.RestrictionBatch(task.enzymes)
    found = batch.search(Seq(sequence), linear=task.topology == "linear")
    return sorted({position for positions in found.values() for position in positions})


def fragment_lengths(positions: list[int], length: int, topology: str) -> list[int]:
    """Lengths of the pieces, sorted; an uncut molecule is one piece of its full length."""
    if not positions:
        return [length]
    if topology == "circular":
        return sorted([b - a for a, b in zip(positions, positions[1:])] + [length - positions[-1] + positions[0]])
    bounds = [1, *positions, length + 1]
    return sorted(b - a for a, b in zip(bounds, bounds[1:]))


@per_task
def gold_answer(task: DigestTask) -> list[int]:
    positions = cut_positions(task)
    if task.report == "cut_positions":
        return positions
    return fragment_lengths(positions, len(task.sequence), task.topology)


class RestrictionDigestEnv(Environment[DigestTask]):
    name = "restriction_digest"
    description = (
        "Digest a linear or circular DNA with a stated panel of type II enzymes (Biopython Restriction, REBASE "
        "names) and give either the cut positions (1-based coordinate of the first top-strand base after each cut, "
        "sorted, distinct) or the fragment lengths (sorted; an uncut molecule is one fragment). Answer integers "
        "separated by commas in <answer></answer> or \\boxed{} ('none' for no cuts). Reward: F1 between the "
        "answer and the gold as multisets (components precision, recall); no readable list -> no_answer."
    )
    Task = DigestTask
    Options = DigestOptions

    def score(self, task: DigestTask, completion: str) -> Score:
        gold = gold_answer(task)
        return f1_answer(completion, gold)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[DigestTask]:
        options = DigestOptions.model_validate(options.model_dump())
        length = rng.randint(*LENGTH_BY_DIFFICULTY[options.difficulty])
        enzymes = rng.sample(PANEL, ENZYMES_BY_DIFFICULTY[options.difficulty])
        sequence = list(random_dna(rng, length))
        for _ in range(rng.randint(*SITES_BY_DIFFICULTY[options.difficulty])):
            site = str(getattr(Restriction, rng.choice(enzymes)).site)
            at = rng.randrange(0, length - len(site))
            sequence[at : at + len(site)] = site
        topology = "circular" if options.difficulty == "hard" and rng.random() < 0.5 else "linear"
        task = DigestTask(sequence="".join(sequence), enzymes=enzymes, topology=topology,
                          report=rng.choice(["cut_positions", "fragment_lengths"]))
        sites = ", ".join(f"{name} ({getattr(Restriction, name).elucidate()})" for name in enzymes)
        if task.report == "cut_positions":
            ask = ("every cut position on the top strand, as the 1-based coordinate of the first base after the cut "
                   "(a cut between bases 4 and 5 is position 5), sorted ascending, each position once")
        else:
            ask = "the lengths of all fragments in bp, sorted ascending (an uncut molecule is one fragment)"
        prompt = (f"This {topology} double-stranded DNA ({length} bp, top strand 5' to 3') is digested to completion "
                  f"with {sites} (cut marks: ^ on the top strand, _ on the bottom strand; sites are searched on both "
                  f"strands{', and across the origin' if topology == 'circular' else ''}).\n{wrap(task.sequence)}\n"
                  f"Give {ask}, as integers separated by commas in <answer></answer> tags, or <answer>none</answer> "
                  "if nothing is cut.")
        gold = gold_answer(task)
        return Generated(prompt=prompt, task=task,
                         solution=f"<answer>{', '.join(map(str, gold)) if gold else 'none'}</answer>")
