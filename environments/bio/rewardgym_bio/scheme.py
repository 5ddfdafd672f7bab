"""Pairwise scoring schemes shared by `alignment_score` and `alignment`: stated in full, never Biopython's defaults."""

from __future__ import annotations

import functools
import random
from typing import Literal

from Bio.Align import PairwiseAligner, substitution_matrices
from pydantic import BaseModel, ConfigDict, Field

from rewardgym.sdk import InvalidTask

from rewardgym_bio.answers import DNA, PROTEIN

MATRICES = ("BLOSUM62", "BLOSUM45", "BLOSUM80", "PAM250")
MAX_ALIGN_LENGTH = 2_000
"""Longest sequence a task may align: O(n*m) time, 4 M cells at most."""


class Scheme(BaseModel):
    """Match/mismatch scores (nucleotides) or a named substitution matrix (proteins), and affine gaps.

    A gap of length L scores open_gap + (L - 1) * extend_gap, at the ends as inside.
    """

    model_config = ConfigDict(extra="forbid")

    matrix: Literal["BLOSUM62", "BLOSUM45", "BLOSUM80", "PAM250"] | None = None
    match: int = Field(default=1, ge=-100, le=100)
    mismatch: int = Field(default=-1, ge=-100, le=100)
    open_gap: int = Field(default=-2, ge=-100, le=0)
    extend_gap: int = Field(default=-1, ge=-100, le=0)

    def describe(self) -> str:
        pairs = (f"substitution scores from the {self.matrix} matrix" if self.matrix
                 else f"match {self.match:+d}, mismatch {self.mismatch:+d}")
        return (f"{pairs}; a gap of length L scores {self.open_gap:+d} + (L - 1) x {self.extend_gap:+d} "
                "(gap opening counts the first gap position), end gaps scored like internal gaps")

    def pair_score(self) -> dict[tuple[str, str], float]:
        """Score of every pair of letters this scheme allows."""
        return _pair_scores(self.matrix, self.match, self.mismatch)


@functools.lru_cache(maxsize=None)
def _matrix(name: str) -> substitution_matrices.Array:
    """A named matrix, read from Biopython's data files once per process."""
    return substitution_matrices.load(name)


@functools.lru_cache(maxsize=64)
def _pair_scores(matrix: str | None, match: int, mismatch: int) -> dict[tuple[str, str], float]:
    if matrix:
        table = _matrix(matrix)
        return {(a, b): float(table[a][b]) for a in PROTEIN for b in PROTEIN}
    return {(a, b): float(match if a == b else mismatch) for a in DNA for b in DNA}


def alphabet_of(scheme: Scheme) -> frozenset[str]:
    return PROTEIN if scheme.matrix else DNA


def require_pair(seq_a: str, seq_b: str, scheme: Scheme) -> tuple[str, str]:
    """Both sequences upper-cased, if they fit the scheme's alphabet and the size limit."""
    alphabet = alphabet_of(scheme)
    seq_a, seq_b = seq_a.upper(), seq_b.upper()
    for label, sequence in (("seq_a", seq_a), ("seq_b", seq_b)):
        if not 1 <= len(sequence) <= MAX_ALIGN_LENGTH:
            raise InvalidTask(f"Expected {label} of 1 to {MAX_ALIGN_LENGTH} letters, got {len(sequence)}")
        if set(sequence) - alphabet:
            kind = "protein letters" if scheme.matrix else "A, C, G, T"
            raise InvalidTask(f"Expected {label} of {kind} only, got {''.join(sorted(set(sequence) - alphabet))!r}")
    return seq_a, seq_b


def aligner(scheme: Scheme, mode: Literal["global", "local"]) -> PairwiseAligner:
    """A PairwiseAligner with every score set: Biopython's defaults have changed between releases."""
    built = PairwiseAligner()
    built.mode = mode
    built.wildcard = None
    if scheme.matrix:
        built.substitution_matrix = _matrix(scheme.matrix)
    else:
        built.match_score = scheme.match
        built.mismatch_score = scheme.mismatch
    built.open_gap_score = scheme.open_gap
    built.extend_gap_score = scheme.extend_gap
    return built


def optimal_score(seq_a: str, seq_b: str, scheme: Scheme, mode: Literal["global", "local"]) -> float:
    seq_a, seq_b = require_pair(seq_a, seq_b, scheme)
    return aligner(scheme, mode).score(seq_a, seq_b)


def random_scheme(rng: random.Random, protein: bool) -> Scheme:
    if protein:
        return Scheme(matrix=rng.choice(MATRICES), open_gap=rng.choice([-8, -10, -11, -12]),
                      extend_gap=rng.choice([-1, -2]))
    open_gap = rng.choice([-2, -3, -5])
    return Scheme(match=rng.choice([1, 2, 5]), mismatch=rng.choice([-1, -2, -3, -4]), open_gap=open_gap,
                  extend_gap=rng.choice([extend for extend in (-1, -2) if extend >= open_gap]))


def related_pair(rng: random.Random, length: int, protein: bool) -> tuple[str, str]:
    """A random sequence and a copy of it with substitutions and short insertions/deletions."""
    letters = sorted(PROTEIN if protein else DNA)
    seq_a = "".join(rng.choices(letters, k=length))
    out: list[str] = []
    for letter in seq_a:
        roll = rng.random()
        if roll < 0.12:
            out.append(rng.choice(letters))
        elif roll < 0.17:
            continue
        elif roll < 0.22:
            out.extend([letter, *rng.choices(letters, k=rng.randint(1, 3))])
        else:
            out.append(letter)
    return seq_a, "".join(out) or rng.choice(letters)
