"""`dna_translate`: translate a coding sequence with a stated NCBI table and a stated way of handling stops."""

from __future__ import annotations

import random
from typing import Literal

from Bio.Seq import Seq
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_bio.answers import PROTEIN, parse_sequence
from rewardgym_bio.common import (exact_answer, random_cds, require_dna, require_table, sense_codons, table_label,
                                  wrap)

CODONS_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (6, 15), "medium": (20, 60), "hard": (80, 200)}
GENERATED_TABLES = (1, 2, 4, 5, 11)
"""Codes that differ in ways a model must get right (UGA = Trp in 2/4/5, AGA/AGG = stop in 2)."""

StopMode = Literal["to_first_stop", "stops_as_star"]


class TranslateTask(TaskModel):
    sequence: str = Field(description="DNA coding strand, 5'->3', a multiple of 3 nt, read from its first base.")
    table: int = Field(default=1, description="NCBI translation table id.")
    stops: StopMode = Field(default="to_first_stop",
                            description="to_first_stop: stop before the first stop codon (not written); "
                                        "stops_as_star: translate every codon, stops written as '*'.")


class TranslateOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 6-15 codons; medium: 20-60; hard: 80-200 (and internal stops in stops_as_star tasks)."""


def gold_protein(task: TranslateTask) -> str:
    sequence = require_dna(task.sequence)
    require_table(task.table)
    if len(sequence) % 3:
        raise InvalidTask(f"Expected a sequence length that is a multiple of 3, got {len(sequence)}")
    return str(Seq(sequence).translate(table=task.table, to_stop=task.stops == "to_first_stop"))


def parse_protein(text: str, stops: StopMode) -> str | None:
    protein = parse_sequence(text, PROTEIN, keep="*")
    if protein is not None and stops == "to_first_stop" and protein.endswith("*"):
        protein = protein[:-1]  # a trailing stop mark is layout; a '*' inside is an answer (and a wrong one)
    return protein


class TranslateEnv(Environment[TranslateTask]):
    name = "dna_translate"
    description = (
        "Translate a DNA coding strand (read from its first base, whole codons) with a stated NCBI translation "
        "table. stops=to_first_stop: the protein up to, not including, the first stop codon (a trailing '*' in the "
        "answer is ignored); stops=stops_as_star: every codon translated, stops written '*'. Answer one-letter "
        "residues (three-letter codes like Met-Lys accepted) in <answer></answer> or \\boxed{}. Reward 1.0 if equal "
        "to Biopython's Seq.translate(table, to_stop) exactly, else 0.0; no readable protein -> no_answer."
    )
    Task = TranslateTask
    Options = TranslateOptions

    def score(self, task: TranslateTask, completion: str) -> Score:
        gold = gold_protein(task)
        return exact_answer(completion, lambda text: parse_protein(text, task.stops), "a protein sequence", gold)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[TranslateTask]:
        options = TranslateOptions.model_validate(options.model_dump())
        table_id = rng.choice(GENERATED_TABLES)
        table = require_table(table_id)
        codons = rng.randint(*CODONS_BY_DIFFICULTY[options.difficulty])
        stops: StopMode = rng.choice(["to_first_stop", "stops_as_star"])
        sequence = random_cds(rng, codons, table)
        if stops == "to_first_stop":
            sequence += "".join(rng.choice(sense_codons(table)) for _ in range(rng.randint(0, 5)))
        elif options.difficulty == "hard":
            at = 3 * rng.randrange(1, codons - 1)
            sequence = sequence[:at] + rng.choice(sorted(table.stop_codons)) + sequence[at + 3 :]
        task = TranslateTask(sequence=sequence, table=table_id, stops=stops)
        rule = ("Stop at the first stop codon and do not write it."
                if stops == "to_first_stop" else "Translate every codon and write each stop codon as '*'.")
        prompt = (f"Translate this DNA coding strand ({len(sequence)} nt, 5' to 3', reading frame starting at its "
                  f"first base) with {table_label(table_id)}. {rule}\n{wrap(sequence)}\n"
                  "Give the protein in one-letter code in <answer></answer> tags.")
        return Generated(prompt=prompt, task=task, solution=f"<answer>{gold_protein(task)}</answer>")
