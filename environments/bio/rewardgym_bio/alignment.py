"""`alignment` (constructive): the model writes a global alignment of two sequences as two gapped rows.

Many alignments are optimal; any of them scores 1. The rows are scored column by column under the stated scheme
(this module's `alignment_value`, checked against Biopython's optimum in the tests), and compared with the optimum
that Biopython's PairwiseAligner computes at scoring time.
"""

from __future__ import annotations

import random
from typing import Literal

from rewardgym.sdk import Environment, Generated, GenerateOptions, Score, TaskModel

from rewardgym_bio.answers import clean_sequence, fasta_records
from rewardgym_bio.common import find_answer, per_task, unreadable
from rewardgym_bio.scheme import (MAX_ALIGN_LENGTH, Scheme, aligner, alphabet_of, optimal_score, random_scheme,
                                  related_pair, require_pair)

REWARD_OPTIMAL = 1.0
PARTIAL_WEIGHT = 0.5
"""A valid but suboptimal alignment scores PARTIAL_WEIGHT x max(0, score) / optimum (never reaching 1)."""
REWARD_INVALID = 0.0

LENGTH_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (6, 12), "medium": (20, 40), "hard": (60, 120)}
GAP = "-"
MAX_ROWS_CHARS = 4 * MAX_ALIGN_LENGTH + 1_000
"""Two rows are at most twice the longest input each, plus labels or headers; longer answers are not read."""


class AlignmentTask(TaskModel):
    seq_a: str
    seq_b: str
    scheme: Scheme


class AlignmentOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 6-12 letters; medium: 20-40; hard: 60-120 (DNA or protein)."""


def parse_rows(text: str) -> tuple[str, str] | None:
    """Two gapped rows: two FASTA records, or the two non-empty lines (a leading `A:`/`seq_a:` label dropped)."""
    if len(text) > MAX_ROWS_CHARS:
        return None
    if ">" in text:
        rows = [clean_sequence(record, keep=GAP + ".") for record in fasta_records(text) if record.strip()]
    else:
        lines = [line.split(":", 1)[-1] for line in text.splitlines() if line.strip()]
        rows = [clean_sequence(line, keep=GAP + ".") for line in lines]
        rows = [row for row in rows if row]
    if len(rows) != 2:
        return None
    return rows[0].replace(".", GAP), rows[1].replace(".", GAP)


def alignment_value(row_a: str, row_b: str, scheme: Scheme) -> float:
    """Score of two equal-length gapped rows: pair scores, and open + (L-1) x extend per gap run in each row."""
    pairs = scheme.pair_score()
    total = 0.0
    for index, (a, b) in enumerate(zip(row_a, row_b)):
        if a != GAP and b != GAP:
            total += pairs[(a, b)]
            continue
        row = row_a if a == GAP else row_b
        opens = index == 0 or row[index - 1] != GAP
        total += scheme.open_gap if opens else scheme.extend_gap
    return total


def check_rows(rows: tuple[str, str], seq_a: str, seq_b: str, scheme: Scheme) -> str | None:
    """Why the rows are not an alignment of the two sequences, or None when they are."""
    row_a, row_b = rows
    if len(row_a) != len(row_b):
        return f"Expected two rows of equal length, got {len(row_a)} and {len(row_b)}"
    for row, sequence, label in ((row_a, seq_a, "first"), (row_b, seq_b, "second")):
        if row.replace(GAP, "") != sequence:
            return f"Expected the {label} row without gaps to be the {label} sequence"
    if any(a == GAP and b == GAP for a, b in zip(row_a, row_b)):
        return "Expected no column with a gap in both rows"
    return None


@per_task
def global_optimum(task: AlignmentTask) -> float:
    return optimal_score(task.seq_a, task.seq_b, task.scheme, "global")


class AlignmentEnv(Environment[AlignmentTask]):
    name = "alignment"
    description = (
        "Constructive: write an optimal global alignment of two DNA or protein sequences as two gapped rows ('-' "
        "for gaps; two lines, 'A: ...'/'B: ...' labels or FASTA records) under a stated scheme (match/mismatch or a "
        "substitution matrix; a gap of length L scores open + (L-1) x extend, end gaps like internal ones). The rows "
        "must be the inputs with gaps inserted, equal in length, with no all-gap column. Reward 1.0 when the rows' "
        f"score equals the optimum (Biopython PairwiseAligner), {PARTIAL_WEIGHT} x max(0, score)/optimum for a valid "
        "suboptimal alignment, 0.0 for invalid rows (components valid, optimal, score_ratio); rows not found -> "
        "no_answer."
    )
    Task = AlignmentTask
    Options = AlignmentOptions

    def score(self, task: AlignmentTask, completion: str) -> Score:
        seq_a, seq_b = require_pair(task.seq_a, task.seq_b, task.scheme)
        optimum = global_optimum(task)
        found = find_answer(completion)
        if isinstance(found, Score):
            return found
        rows = parse_rows(found.text)
        if rows is None or any(set(row) - alphabet_of(task.scheme) - {GAP} for row in rows):
            return unreadable(found, "two alignment rows of sequence letters and '-'")
        details = {"extracted": found.text[:500], "form": found.form, "optimum": optimum}
        problem = check_rows(rows, seq_a, seq_b, task.scheme)
        if problem is not None:
            return Score(reward=REWARD_INVALID, components={"valid": 0.0, "optimal": 0.0, "score_ratio": 0.0},
                         details={**details, "message": problem})
        value = alignment_value(*rows, task.scheme)
        ratio = max(0.0, value) / optimum if optimum > 0 else 0.0
        optimal = abs(value - optimum) < 1e-9
        reward = REWARD_OPTIMAL if optimal else PARTIAL_WEIGHT * min(ratio, 1.0)
        components = {"valid": 1.0, "optimal": float(optimal), "score_ratio": min(ratio, 1.0)}
        return Score(reward=reward, components=components,
                     details={**details, "score": value})

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[AlignmentTask]:
        options = AlignmentOptions.model_validate(options.model_dump())
        protein = rng.random() < 0.5
        seq_a, seq_b = related_pair(rng, rng.randint(*LENGTH_BY_DIFFICULTY[options.difficulty]), protein)
        task = AlignmentTask(seq_a=seq_a, seq_b=seq_b, scheme=random_scheme(rng, protein))
        best = aligner(task.scheme, "global").align(seq_a, seq_b)[0]
        kind = "protein" if protein else "DNA"
        prompt = (f"Write an optimal global alignment (both sequences end to end) of these two {kind} sequences.\n"
                  f"A: {seq_a}\nB: {seq_b}\nScoring: {task.scheme.describe()}. Any alignment with the optimal score "
                  "is accepted. Write the two gapped rows ('-' for a gap), A's row first, one per line, in "
                  "<answer></answer> tags.")
        return Generated(prompt=prompt, task=task, solution=f"<answer>\n{best[0]}\n{best[1]}\n</answer>")
