"""What every bio environment shares: reward constants, input validation, the verdict builders, sequence helpers."""

from __future__ import annotations

import functools
import random
from collections import Counter, OrderedDict
from typing import Any, Callable, TypeVar

from Bio.Data import CodonTable

from rewardgym.sdk import InvalidTask, Score, TaskModel

from rewardgym_bio.answers import DNA, MAX_ANSWER_CHARS, PROTEIN, Extraction, extract_answer, parse_int_list

REWARD_CORRECT = 1.0
REWARD_WRONG = 0.0

MAX_DNA_LENGTH = 20_000
"""Longest nucleotide sequence a task may hold: far above any generated task, and quick for every scorer."""

MAX_PROTEIN_LENGTH = 5_000

NCBI_TABLES = sorted(CodonTable.unambiguous_dna_by_id)
"""NCBI translation table ids Biopython knows; any other id in a task is invalid."""

T = TypeVar("T")
TaskT = TypeVar("TaskT", bound=TaskModel)

GOLD_CACHE_SIZE = 64
"""Tasks whose gold a scoring process remembers: a GRPO group is G completions of one task, sent together."""


def per_task(gold: Callable[[TaskT], T]) -> Callable[[TaskT], T]:
    """Remember a gold function's result per task (keyed on the task's JSON) in this process, least recently used
    out first. Gold is a pure function of the task, so the G items of a group compute it once per process rather
    than G times; an InvalidTask is raised again each time, never cached. Callers must not mutate the result."""
    cache: OrderedDict[str, Any] = OrderedDict()

    @functools.wraps(gold)
    def cached(task: TaskT) -> T:
        key = task.model_dump_json()
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        value = gold(task)
        cache[key] = value
        if len(cache) > GOLD_CACHE_SIZE:
            cache.popitem(last=False)
        return value

    return cached


def find_answer(completion: str) -> Extraction | Score:
    """The extraction, or the `no_answer` score to return when there is none."""
    found = extract_answer(completion)
    if found is None:
        return Score.no_answer("Expected the answer in <answer>...</answer> or \\boxed{...}, found none",
                               extracted=None)
    if len(found.text) > MAX_ANSWER_CHARS:  # every parser below may then assume bounded input
        return unreadable(found, f"an answer of at most {MAX_ANSWER_CHARS} characters")
    return found


def unreadable(found: Extraction, expected: str) -> Score:
    """`no_answer` for an extracted text that is not an answer of the expected kind."""
    return Score.no_answer(f"Expected {expected}, got {found.text[:200]!r}", extracted=found.text[:200])


def verdict(correct: bool, found: Extraction, **details: Any) -> Score:
    """An exact-answer verdict: reward 1 or 0, component `correct`."""
    reward = REWARD_CORRECT if correct else REWARD_WRONG
    return Score(reward=reward, components={"correct": reward},
                 details={"extracted": found.text[:500], "form": found.form, **details})


def read_answer(completion: str, parse: Callable[[str], T | None], expected: str) -> tuple[Extraction, T] | Score:
    """Extract and parse in one step: the parsed value, or the `no_answer` score to return."""
    found = find_answer(completion)
    if isinstance(found, Score):
        return found
    value = parse(found.text)
    if value is None:
        return unreadable(found, expected)
    return found, value


def exact_answer(completion: str, parse: Callable[[str], T | None], expected: str, gold: T) -> Score:
    """Reward 1 when the parsed answer equals `gold`, else 0; `no_answer` when nothing parses."""
    read = read_answer(completion, parse, expected)
    if isinstance(read, Score):
        return read
    found, value = read
    shown = {"length": len(value)} if isinstance(value, str) and len(value) > 60 else {"value": value}
    return verdict(value == gold, found, **shown)


def numeric_answer(completion: str, parse: Callable[[str], float | None], expected: str, gold: float,
                   tolerance: float) -> Score:
    """Reward 1 when |answer - gold| <= tolerance, else 0; `no_answer` when no number parses."""
    read = read_answer(completion, parse, expected)
    if isinstance(read, Score):
        return read
    found, value = read
    return verdict(abs(value - gold) <= tolerance, found, value=value, gold=round(gold, 6))


def f1(answer: list[int], gold: list[int]) -> tuple[float, float, float]:
    """Precision, recall and F1 over multisets (an empty answer to an empty gold is 1)."""
    if not answer and not gold:
        return 1.0, 1.0, 1.0
    common = sum((Counter(answer) & Counter(gold)).values())
    precision = common / len(answer) if answer else 0.0
    recall = common / len(gold) if gold else 0.0
    score = 2 * precision * recall / (precision + recall) if common else 0.0
    return precision, recall, score


def f1_answer(completion: str, gold: list[int]) -> Score:
    """Reward F1 between a list of integers and the gold list, as multisets (components f1, precision, recall)."""
    read = read_answer(completion, parse_int_list, "integers separated by commas, or 'none'")
    if isinstance(read, Score):
        return read
    found, answer = read
    precision, recall, reward = f1(answer, gold)
    return Score(reward=reward, components={"f1": reward, "precision": precision, "recall": recall},
                 details={"extracted": found.text[:500], "form": found.form})


# Task validation: a task that cannot be scored raises InvalidTask (status invalid_task, reward null) ------------

def require_dna(sequence: str, field: str = "sequence", max_length: int = MAX_DNA_LENGTH) -> str:
    """The sequence, upper-cased, if it is ACGT only and not too long."""
    sequence = sequence.upper()
    if not sequence:
        raise InvalidTask(f"Expected a non-empty DNA {field}, got an empty one")
    if len(sequence) > max_length:
        raise InvalidTask(f"Expected a {field} of at most {max_length} nt, got {len(sequence)}")
    bad = sorted(set(sequence) - DNA)
    if bad:
        raise InvalidTask(f"Expected a DNA {field} of A, C, G, T only, got {''.join(bad)!r}")
    return sequence


def require_protein(sequence: str, field: str = "protein") -> str:
    sequence = sequence.upper()
    if not sequence or len(sequence) > MAX_PROTEIN_LENGTH:
        raise InvalidTask(f"Expected a {field} of 1 to {MAX_PROTEIN_LENGTH} residues, got {len(sequence)}")
    bad = sorted(set(sequence) - PROTEIN)
    if bad:
        raise InvalidTask(f"Expected a {field} of the 20 standard one-letter residues, got {''.join(bad)!r}")
    return sequence


def require_table(table: int) -> CodonTable.CodonTable:
    if table not in CodonTable.unambiguous_dna_by_id:
        raise InvalidTask(f"Expected an NCBI translation table id among {NCBI_TABLES}, got {table}")
    return CodonTable.unambiguous_dna_by_id[table]


def table_label(table: int) -> str:
    """`NCBI translation table 11 (Bacterial, Archaeal and Plant Plastid)`: how prompts name a code."""
    return f"NCBI translation table {table} ({CodonTable.unambiguous_dna_by_id[table].names[0]})"


# Generation helpers: only the rng passed in ---------------------------------------------------------------------

def random_dna(rng: random.Random, length: int, gc: float = 0.5) -> str:
    weights = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
    return "".join(rng.choices("ACGT", weights=weights, k=length))


def random_protein(rng: random.Random, length: int, *, start_with_met: bool = False) -> str:
    body = "".join(rng.choices(sorted(PROTEIN), k=length))
    return "M" + body[1:] if start_with_met else body


def sense_codons(table: CodonTable.CodonTable) -> list[str]:
    return sorted(table.forward_table)


def random_cds(rng: random.Random, codons: int, table: CodonTable.CodonTable) -> str:
    """ATG, `codons - 2` random sense codons, one stop codon of `table`."""
    body = "".join(rng.choice(sense_codons(table)) for _ in range(codons - 2))
    return "ATG" + body + rng.choice(sorted(table.stop_codons))


def wrap(sequence: str, width: int = 60) -> str:
    """A long sequence as lines of `width` characters, as FASTA writes it."""
    return "\n".join(sequence[i : i + width] for i in range(0, len(sequence), width))
