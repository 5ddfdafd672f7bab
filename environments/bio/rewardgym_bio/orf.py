"""`orf_finder`: the longest open reading frame on either strand, as its protein or its coordinates.

An ORF here is ATG, whole codons, up to and including the first in-frame stop codon of the stated table, on one
strand; ORFs that run off the end of the sequence do not count. Coordinates are 1-based, inclusive, on the given
(top) strand's numbering, start < end, and include the stop codon.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

from Bio.Seq import Seq
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_bio.answers import MAX_NUMBER_CHARS, PROTEIN, Extraction, parse_sequence
from rewardgym_bio.common import (find_answer, per_task, random_dna, require_dna, require_table, sense_codons,
                                  table_label, unreadable, verdict, wrap)

LENGTH_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (90, 150), "medium": (300, 600), "hard": (900, 1500)}
MIN_PROTEIN_BY_DIFFICULTY: dict[str, int] = {"easy": 15, "medium": 40, "hard": 80}
MAX_GENERATION_TRIES = 200


class OrfTask(TaskModel):
    sequence: str = Field(description="DNA, 5'->3' (top strand).")
    min_protein_length: int = Field(ge=1, description="Minimum ORF length in amino acids, stop not counted.")
    table: Literal[1, 11] = Field(default=1, description="NCBI table (1 or 11): stop codons; ATG is the only start.")
    report: Literal["protein", "coordinates"] = Field(description="What the answer gives.")


class OrfOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 90-150 nt; medium: 300-600 nt; hard: 900-1500 nt."""


@dataclass(frozen=True)
class Orf:
    start: int
    end: int
    strand: Literal["+", "-"]
    protein: str


def _scan(strand_seq: str, stops: frozenset[str]) -> list[tuple[int, int]]:
    """(start, end) 0-based half-open of every maximal ATG..stop on this strand, over its three frames."""
    found = []
    for frame in range(3):
        open_at = None
        for at in range(frame, len(strand_seq) - 2, 3):
            codon = strand_seq[at : at + 3]
            if open_at is None and codon == "ATG":
                open_at = at
            elif open_at is not None and codon in stops:
                found.append((open_at, at + 3))
                open_at = None
    return found


def find_orfs(sequence: str, table: int, min_protein_length: int) -> list[Orf]:
    """Every ORF at least `min_protein_length` residues long, on both strands, proteins by Biopython."""
    stops = frozenset(require_table(table).stop_codons)
    length, orfs = len(sequence), []
    reverse = str(Seq(sequence).reverse_complement())
    for strand, strand_seq in (("+", sequence), ("-", reverse)):
        for begin, end in _scan(strand_seq, stops):
            if (end - begin) // 3 - 1 < min_protein_length:
                continue
            protein = str(Seq(strand_seq[begin : end - 3]).translate(table=table))
            start, stop = (begin + 1, end) if strand == "+" else (length - end + 1, length - begin)
            orfs.append(Orf(start, stop, strand, protein))  # type: ignore[arg-type]
    return orfs


@per_task
def longest_orfs(task: OrfTask) -> list[Orf]:
    orfs = find_orfs(require_dna(task.sequence), task.table, task.min_protein_length)
    if not orfs:
        raise InvalidTask(f"Expected a sequence with an ORF of at least {task.min_protein_length} aa, got none")
    longest = max(orf.end - orf.start for orf in orfs)
    return [orf for orf in orfs if orf.end - orf.start == longest]


_COMPLEMENT = re.compile(r"(?i)complement\s*\(\s*(\d+)\s*\.\.\s*(\d+)\s*\)")
_RANGE = re.compile(r"(?i)(\d+)\s*(?:\.\.|[-–]|to|,|\s)\s*(\d+)")
_STRAND_WORD = re.compile(r"(?i)\b(plus|forward|sense|top|minus|reverse|antisense|bottom|complement)\b")
_STRAND_SIGN = re.compile(r"(?<![\d])([+\-−])\s*1?(?!\d)")


def parse_coordinates(text: str) -> tuple[int, int, str] | None:
    """`120..455 (+)`, `start=120, end=455, strand=-`, `120, 455, -1`, `complement(120..455)`."""
    if len(text) > MAX_NUMBER_CHARS:  # the range regex backtracks over long digit runs: bound its input
        return None
    if (m := _COMPLEMENT.search(text)) is not None:
        return int(m.group(1)), int(m.group(2)), "-"
    text = re.sub(r"(?i)\b(start|end|strand|position|positions|from)\b\s*[:=]?", " ", text)
    match = _RANGE.search(text)
    if match is None:
        return None
    start, end = sorted((int(match.group(1)), int(match.group(2))))
    rest = text[: match.start()] + " " + text[match.end() :]
    if (word := _STRAND_WORD.search(rest)) is not None:
        return start, end, "+" if word.group(1).lower() in ("plus", "forward", "sense", "top") else "-"
    signs = {"+" if sign == "+" else "-" for sign in _STRAND_SIGN.findall(rest)}
    return (start, end, signs.pop()) if len(signs) == 1 else None


class OrfEnv(Environment[OrfTask]):
    name = "orf_finder"
    description = (
        "Longest ORF on both strands: ATG through the first in-frame stop (table 1 or 11 stops; ATG the only start), "
        "at least min_protein_length residues, ORFs running off the end not counted. report=protein: its protein "
        "in one-letter code without the stop; report=coordinates: 'start, end, strand' 1-based inclusive on the "
        "top strand's numbering with the stop codon included (also '120..455 (+)', 'complement(120..455)'). "
        "Reward 1.0 if the answer matches the longest ORF (any of them if tied), else 0.0; unreadable -> no_answer."
    )
    Task = OrfTask
    Options = OrfOptions

    def score(self, task: OrfTask, completion: str) -> Score:
        golds = longest_orfs(task)
        found = find_answer(completion)
        if isinstance(found, Score):
            return found
        if task.report == "protein":
            protein = parse_sequence(found.text.rstrip("*").strip(), PROTEIN)
            if protein is None:
                return unreadable(found, "a protein sequence")
            return verdict(any(orf.protein == protein for orf in golds), found, length=len(protein))
        return self._score_coordinates(golds, found)

    def _score_coordinates(self, golds: list[Orf], found: Extraction) -> Score:
        coordinates = parse_coordinates(found.text)
        if coordinates is None:
            return unreadable(found, "'start, end, strand'")
        correct = any((orf.start, orf.end, orf.strand) == coordinates for orf in golds)
        return verdict(correct, found, coordinates=list(coordinates))

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[OrfTask]:
        options = OrfOptions.model_validate(options.model_dump())
        minimum = MIN_PROTEIN_BY_DIFFICULTY[options.difficulty]
        table_id = rng.choice([1, 11])
        table = require_table(table_id)
        for _ in range(MAX_GENERATION_TRIES):
            length = rng.randint(*LENGTH_BY_DIFFICULTY[options.difficulty])
            codons = rng.randint(minimum + 2, max(minimum + 3, length // 3 - 4))
            orf = "ATG" + "".join(rng.choice(sense_codons(table)) for _ in range(codons - 2))
            orf += rng.choice(sorted(table.stop_codons))
            if rng.random() < 0.5:
                orf = str(Seq(orf).reverse_complement())
            at = rng.randint(0, length - len(orf))
            sequence = random_dna(rng, at) + orf + random_dna(rng, length - at - len(orf))
            task = OrfTask(sequence=sequence, min_protein_length=minimum, table=table_id,
                           report=rng.choice(["protein", "coordinates"]))
            golds = longest_orfs(task)
            if len(golds) == 1:
                break
        else:
            raise RuntimeError(f"Expected a unique longest ORF within {MAX_GENERATION_TRIES} tries, got none")
        gold = golds[0]
        if task.report == "protein":
            ask, solution = "its protein in one-letter code, without the stop", gold.protein
        else:
            ask = ("its coordinates as 'start, end, strand': 1-based, inclusive, numbered on the strand shown, "
                   "start < end, stop codon included, strand + or -")
            solution = f"{gold.start}, {gold.end}, {gold.strand}"
        prompt = (f"Find the longest open reading frame in this {len(sequence)} nt DNA sequence, on either strand. "
                  f"An ORF starts with ATG and ends at the first in-frame stop codon of {table_label(table_id)}; "
                  f"only ORFs of at least {minimum} amino acids (stop not counted) that end in a stop codon count.\n"
                  f"{wrap(sequence)}\nGive {ask}, in <answer></answer> tags.")
        return Generated(prompt=prompt, task=task, solution=f"<answer>{solution}</answer>")
