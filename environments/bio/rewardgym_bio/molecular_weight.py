"""`molecular_weight`: the average (or monoisotopic) mass of a DNA, RNA or protein sequence, by a stated convention."""

from __future__ import annotations

import random
from typing import Literal

from Bio.SeqUtils import molecular_weight
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_bio.answers import RNA, parse_number
from rewardgym_bio.common import numeric_answer, random_dna, random_protein, require_dna, require_protein, wrap

LENGTH_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (8, 20), "medium": (30, 120), "hard": (150, 600)}
RELATIVE_TOLERANCE = 0.001
"""0.1 %: tighter than the gap between conventions (a water, a strand), looser than mass-table rounding."""

SeqType = Literal["DNA", "RNA", "protein"]


class WeightTask(TaskModel):
    sequence: str = Field(description="One-letter sequence, 5'->3' for nucleic acids.")
    seq_type: SeqType
    double_stranded: bool = Field(default=False, description="DNA/RNA only: add the complementary strand.")
    circular: bool = Field(default=False, description="One more bond closes the ring (one water fewer).")
    monoisotopic: bool = Field(default=False, description="Monoisotopic instead of average masses.")


class WeightOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 8-20 residues, single-stranded linear; medium: 30-120; hard: 150-600 with strands/rings/isotopes."""


def gold_weight(task: WeightTask) -> float:
    if task.seq_type == "protein":
        sequence = require_protein(task.sequence)
        if task.double_stranded:
            raise InvalidTask("Expected double_stranded false for a protein, got true")
    elif task.seq_type == "RNA":
        sequence = task.sequence.upper()
        if not sequence or set(sequence) - RNA:
            raise InvalidTask(f"Expected an RNA sequence of A, C, G, U, got {task.sequence[:50]!r}")
    else:
        sequence = require_dna(task.sequence)
    return molecular_weight(sequence, seq_type=task.seq_type, double_stranded=task.double_stranded,
                            circular=task.circular, monoisotopic=task.monoisotopic)


def convention(task: WeightTask) -> str:
    unit = "amino acid" if task.seq_type == "protein" else "nucleoside monophosphate"
    bonds = "peptide" if task.seq_type == "protein" else "phosphodiester"
    parts = [f"sum the {'monoisotopic' if task.monoisotopic else 'average'} masses of the free {unit}s "
             f"(Biopython's IUPAC mass tables) and subtract one water ({'18.0106' if task.monoisotopic else '18.0153'}"
             f" Da) per {bonds} bond"]
    parts.append("the molecule is circular (as many bonds as residues)" if task.circular
                 else "the molecule is linear (one bond fewer than residues)")
    if task.seq_type != "protein":
        parts.append("count both strands of the duplex (the complementary strand added)" if task.double_stranded
                     else "count a single strand")
    return "; ".join(parts)


class MolecularWeightEnv(Environment[WeightTask]):
    name = "molecular_weight"
    description = (
        "Molecular weight of a DNA, RNA or protein sequence by Biopython's convention (Bio.SeqUtils.molecular_weight"
        ": free monomer masses minus one water per bond), with strandedness, topology and average/monoisotopic "
        "masses stated. Answer in Da (kDa and g/mol accepted; thousands separators allowed) in <answer></answer> "
        "or \\boxed{}. Reward 1.0 within 0.1 % of the gold, else 0.0; no readable mass -> no_answer."
    )
    Task = WeightTask
    Options = WeightOptions

    def score(self, task: WeightTask, completion: str) -> Score:
        gold = gold_weight(task)
        return numeric_answer(completion, lambda text: parse_number(text, "mass"), "a mass in Da", gold,
                              RELATIVE_TOLERANCE * abs(gold))

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[WeightTask]:
        options = WeightOptions.model_validate(options.model_dump())
        length = rng.randint(*LENGTH_BY_DIFFICULTY[options.difficulty])
        seq_type: SeqType = rng.choice(["DNA", "RNA", "protein"])
        if seq_type == "protein":
            sequence = random_protein(rng, length)
        else:
            sequence = random_dna(rng, length)
            sequence = sequence.replace("T", "U") if seq_type == "RNA" else sequence
        hard = options.difficulty == "hard"
        task = WeightTask(sequence=sequence, seq_type=seq_type,
                          double_stranded=hard and seq_type != "protein" and rng.random() < 0.5,
                          circular=hard and seq_type == "DNA" and rng.random() < 0.3,
                          monoisotopic=options.difficulty != "easy" and rng.random() < 0.3)
        kind = {"DNA": "DNA", "RNA": "RNA", "protein": "protein"}[seq_type]
        prompt = (f"Compute the molecular weight of this {kind} sequence ({length} residues):\n{wrap(sequence)}\n"
                  f"Convention: {convention(task)}. Answers within 0.1 % count as correct. Give the mass in Da in "
                  "<answer></answer> tags.")
        return Generated(prompt=prompt, task=task, solution=f"<answer>{gold_weight(task):.2f} Da</answer>")
