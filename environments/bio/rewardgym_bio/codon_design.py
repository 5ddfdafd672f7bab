"""`codon_design` (constructive): a DNA sequence that encodes a given protein under stated design constraints.

Constraints: (1) the sequence is ATG... one stop codon and translates (NCBI table 1) to exactly the protein: the
gate; (2) no site of any stated enzyme on either strand; (3) GC fraction inside [gc_min, gc_max]; (4) codon
adaptation index (Sharp & Li, Biopython's CodonAdaptationIndex with the task's weights) >= min_cai.
"""

from __future__ import annotations

import math
import random
from typing import Literal

from Bio import Restriction
from Bio.Data import CodonTable
from Bio.Seq import Seq
from Bio.SeqUtils import CodonAdaptationIndex, gc_fraction
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_bio.answers import DNA, parse_sequence
from rewardgym_bio.codon_usage import ECOLI_SHARP_LI
from rewardgym_bio.common import per_task, random_protein, read_answer, require_protein, wrap
from rewardgym_bio.restriction import PANEL

REWARD_PER_CONSTRAINT = 0.25
"""Each of the four constraints met adds 0.25, but only when the sequence encodes the protein (else 0)."""

LENGTH_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (10, 20), "medium": (30, 80), "hard": (100, 250)}
ENZYMES_BY_DIFFICULTY: dict[str, int] = {"easy": 2, "medium": 3, "hard": 4}
CAI_SLACK_BY_DIFFICULTY: dict[str, float] = {"easy": 0.3, "medium": 0.15, "hard": 0.08}
MAX_GENERATION_TRIES = 50
STANDARD = CodonTable.unambiguous_dna_by_id[1]


def _synonyms() -> dict[str, list[str]]:
    by_residue: dict[str, list[str]] = {}
    for codon, residue in sorted(STANDARD.forward_table.items()):
        by_residue.setdefault(residue, []).append(codon)
    return by_residue


SYNONYMS = _synonyms()
"""Residue -> its codons in table 1, sorted."""


class CodonDesignTask(TaskModel):
    protein: str = Field(description="Protein to encode, one-letter code, starting with M.")
    codon_weights: dict[str, float] = Field(description="Relative adaptiveness w (0 < w <= 1) of every codon "
                                                        "of every residue in the protein.")
    avoid_enzymes: list[str] = Field(default_factory=list, max_length=20)
    gc_min: float = Field(ge=0, le=1)
    gc_max: float = Field(ge=0, le=1)
    min_cai: float = Field(ge=0, le=1)


class CodonDesignOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 10-20 residues, 2 enzymes; medium: 30-80, 3; hard: 100-250, 4 and a CAI threshold close to the best."""


@per_task
def validate(task: CodonDesignTask) -> tuple[str, CodonAdaptationIndex, Restriction.RestrictionBatch]:
    protein = require_protein(task.protein)
    if not protein.startswith("M"):
        raise InvalidTask(f"Expected a protein starting with M, got {protein[:1]!r}")
    needed = {codon for residue in set(protein) for codon in SYNONYMS[residue]}
    missing = sorted(needed - set(task.codon_weights))
    if missing:
        raise InvalidTask(f"Expected weights for every synonymous codon of the protein's residues; missing {missing}")
    bad = {codon: w for codon, w in task.codon_weights.items() if codon not in STANDARD.forward_table or not 0 < w <= 1}
    if bad:
        raise InvalidTask(f"Expected sense codons with weights in (0, 1], got {bad}")
    if task.gc_min > task.gc_max:
        raise InvalidTask(f"Expected gc_min <= gc_max, got {task.gc_min} > {task.gc_max}")
    unknown = [name for name in task.avoid_enzymes if name not in Restriction.AllEnzymes]
    if unknown:
        raise InvalidTask(f"Expected enzyme names known to Biopython's Restriction (REBASE), got {unknown}")
    index = CodonAdaptationIndex([])
    index.update(task.codon_weights)
    return protein, index, Restriction.RestrictionBatch(task.avoid_enzymes)


def constraints_met(task: CodonDesignTask, dna: str) -> dict[str, float]:
    """1.0/0.0 per constraint; the others are reported as 0 when the gate (encodes) fails."""
    protein, index, batch = validate(task)
    encodes = len(dna) == 3 * (len(protein) + 1) and str(Seq(dna).translate(table=1)) == protein + "*"
    if not encodes:
        return {"encodes": 0.0, "no_sites": 0.0, "gc_window": 0.0, "cai": 0.0}
    sites = batch.search(Seq(dna), linear=True) if task.avoid_enzymes else {}
    gc = gc_fraction(dna, ambiguous="ignore")
    return {"encodes": 1.0, "no_sites": float(not any(sites.values())),
            "gc_window": float(task.gc_min <= gc <= task.gc_max), "cai": float(index.calculate(dna) >= task.min_cai)}


def _design(rng: random.Random, protein: str, weights: dict[str, float],
            batch: Restriction.RestrictionBatch) -> str | None:
    """The best codon per residue, then synonymous swaps at random until no stated site is left."""
    codons = [max(SYNONYMS[residue], key=lambda codon: weights[codon]) for residue in protein] + ["TAA"]
    for _ in range(200):
        sites = sorted(p for positions in batch.search(Seq("".join(codons)), linear=True).values() for p in positions)
        if not sites:
            return "".join(codons)
        at = min((sites[0] - 1) // 3, len(protein) - 1)
        at = rng.choice([index for index in (at - 1, at, at + 1) if 0 < index < len(protein)] or [at])
        codons[at] = rng.choice(SYNONYMS[protein[at]])
    return None


class CodonDesignEnv(Environment[CodonDesignTask]):
    name = "codon_design"
    description = (
        "Constructive: write a DNA coding sequence (ATG through one stop codon) for a given protein under NCBI "
        "table 1, "
        "avoiding the sites of stated restriction enzymes (both strands), with GC fraction in a stated window and a "
        "codon adaptation index (Sharp & Li geometric mean of the stated weights, ATG/TGG/stops excluded; "
        "Biopython CodonAdaptationIndex) at least a stated threshold. Answer the DNA in <answer></answer> or "
        "\\boxed{} (case, whitespace, FASTA header ignored). Reward: 0 unless it encodes the protein exactly; "
        "then 0.25 for each of the four constraints met (encodes, no_sites, gc_window, cai: all four = 1.0, all "
        "but one = 0.75). No readable DNA -> no_answer."
    )
    Task = CodonDesignTask
    Options = CodonDesignOptions

    def score(self, task: CodonDesignTask, completion: str) -> Score:
        validate(task)
        read = read_answer(completion, lambda text: parse_sequence(text, DNA), "a DNA sequence")
        if isinstance(read, Score):
            return read
        found, dna = read
        met = constraints_met(task, dna)
        reward = REWARD_PER_CONSTRAINT * sum(met.values()) if met["encodes"] else 0.0
        return Score(reward=reward, components=met, details={"extracted": found.text[:200], "form": found.form,
                                                             "length": len(dna)})

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[CodonDesignTask]:
        options = CodonDesignOptions.model_validate(options.model_dump())
        for _ in range(MAX_GENERATION_TRIES):
            protein = random_protein(rng, rng.randint(*LENGTH_BY_DIFFICULTY[options.difficulty]), start_with_met=True)
            enzymes = sorted(rng.sample(PANEL, ENZYMES_BY_DIFFICULTY[options.difficulty]))
            weights = {codon: ECOLI_SHARP_LI[codon] for residue in sorted(set(protein)) for codon in SYNONYMS[residue]}
            dna = _design(rng, protein, weights, Restriction.RestrictionBatch(enzymes))
            if dna is not None:
                break
        else:
            raise RuntimeError(f"Expected a designable protein within {MAX_GENERATION_TRIES} tries, got none")
        index = CodonAdaptationIndex([])
        index.update(weights)
        gc, cai = gc_fraction(dna, ambiguous="ignore"), index.calculate(dna)
        task = CodonDesignTask(
            protein=protein, codon_weights=weights, avoid_enzymes=enzymes,
            gc_min=math.floor((gc - 0.06) * 100) / 100, gc_max=math.ceil((gc + 0.06) * 100) / 100,
            min_cai=max(0.0, math.floor((cai - CAI_SLACK_BY_DIFFICULTY[options.difficulty]) * 100) / 100))
        table = "; ".join(f"{residue}: " + ", ".join(f"{codon} {weights[codon]:g}" for codon in SYNONYMS[residue])
                          for residue in sorted(set(protein)))
        sites = ", ".join(f"{name} ({getattr(Restriction, name).site})" for name in enzymes)
        prompt = (f"Design a DNA coding sequence for this protein ({len(protein)} residues) for expression in E. coli, "
                  f"using NCBI translation table 1 (Standard):\n{wrap(protein)}\nRequirements: start with the ATG of "
                  f"the first M and end with exactly one stop codon (TAA, TAG or TGA); no site of {sites} on either "
                  f"strand; GC fraction between {task.gc_min:.2f} and {task.gc_max:.2f} inclusive; codon adaptation "
                  f"index at least {task.min_cai:.2f}, computed as the geometric mean of the codon weights w below "
                  "over all codons except ATG, TGG and the stop (Sharp & Li). Codon weights w: "
                  f"{table}.\nGive the DNA sequence, 5' to 3', in <answer></answer> tags.")
        return Generated(prompt=prompt, task=task, solution=f"<answer>{dna}</answer>")
