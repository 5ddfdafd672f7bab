"""`primer_design` (constructive): a forward and a reverse PCR primer that flank a stated region of a template.

Constraints: (1) both anneal exactly and uniquely on the right strands and flank the region: the gate; (2) both
lengths in the stated range; (3) both Tm (Biopython Tm_NN, every condition stated) in the window; (4) Tm
difference at most the stated maximum; (5) a GC clamp (3'-terminal base G or C) on both, when asked.
"""

from __future__ import annotations

import random
import re
from typing import Literal

from Bio.Seq import Seq
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_bio.answers import DNA, fasta_records, parse_sequence
from rewardgym_bio.common import find_answer, random_dna, require_dna, unreadable, wrap
from rewardgym_bio.melting_temp import TmConditions, tm_nn

REWARD_PER_CONSTRAINT = 0.2
"""Each of the five constraints met adds 0.2, but only when the primers anneal and flank the region (else 0)."""

LENGTH_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (200, 300), "medium": (400, 800), "hard": (1000, 2000)}
TM_DIFF_BY_DIFFICULTY: dict[str, float] = {"easy": 5.0, "medium": 3.0, "hard": 2.0}
SEARCH_SPAN = 120
"""How far from the region the generator looks for primers."""
ENDS_TRIED = 25
"""Primer end positions the generator tries per strand (drawn from the span): Tm_NN costs ~0.5 ms a call."""
MAX_GENERATION_TRIES = 50
MAX_PRIMER_LENGTH = 60
MAX_PRIMERS_CHARS = 2_000
"""Two labelled primers with headers fit easily; longer answers are not read."""

_LABELLED = re.compile(r"(?i)\b(forward|fwd|reverse|rev)\b[^:=\n]*[:=]?\s*([^\n,;]+)")


class PrimerTask(TaskModel):
    template: str = Field(description="Template DNA, top strand 5'->3'.")
    target_start: int = Field(ge=1, description="1-based first base of the region to amplify.")
    target_end: int = Field(ge=1, description="1-based last base of the region (inclusive).")
    length_min: int = Field(ge=5, le=MAX_PRIMER_LENGTH)
    length_max: int = Field(ge=5, le=MAX_PRIMER_LENGTH)
    tm_min: float
    tm_max: float
    max_tm_diff: float = Field(ge=0)
    gc_clamp: bool = Field(description="Both primers must end (3') in G or C.")
    conditions: TmConditions


class PrimerOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 200-300 bp template, Tm difference <= 5 °C; medium: 400-800 bp, 3 °C; hard: 1-2 kb, 2 °C."""


def parse_primers(text: str) -> tuple[str, str] | None:
    """`forward: ACGT..., reverse: TTGA...` (labels in any order), two FASTA records, or two lines in order."""
    if len(text) > MAX_PRIMERS_CHARS:
        return None
    labelled: dict[str, str] = {}
    if ">" in text:
        records = [record for record in fasta_records(text) if record.strip()]
        pairs = list(zip(re.findall(r">([^\n]*)", text), records)) if len(records) == 2 else []
        labelled = {("reverse" if re.search(r"(?i)rev", header) else "forward"): body for header, body in pairs}
        candidates = records
    else:
        for match in _LABELLED.finditer(text):
            labelled["reverse" if match.group(1).lower().startswith("rev") else "forward"] = match.group(2)
        candidates = [line for line in re.split(r"[\n,;]+", text) if line.strip()]
    if len(labelled) == 2:
        candidates = [labelled["forward"], labelled["reverse"]]
    primers = [parse_sequence(candidate, DNA) for candidate in candidates]
    if len(primers) != 2 or None in primers:
        return None
    return primers[0], primers[1]  # type: ignore[return-value]


def validate(task: PrimerTask) -> str:
    template = require_dna(task.template, "template")
    if not 1 <= task.target_start <= task.target_end <= len(template):
        raise InvalidTask(f"Expected 1 <= target_start <= target_end <= {len(template)}, got "
                          f"{task.target_start}..{task.target_end}")
    if task.length_min > task.length_max or task.tm_min > task.tm_max:
        raise InvalidTask("Expected length_min <= length_max and tm_min <= tm_max")
    return template


def anneals_and_flanks(template: str, forward: str, reverse: str, task: PrimerTask) -> str | None:
    """Why the pair does not bind uniquely on the right strands around the region, or None when it does."""
    bottom = str(Seq(template).reverse_complement())
    reverse_site = str(Seq(reverse).reverse_complement())
    if template.count(forward) + bottom.count(forward) != 1 or forward not in template:
        return "Expected the forward primer to match the top strand exactly once and the bottom strand never"
    if bottom.count(reverse) + template.count(reverse) != 1 or reverse not in bottom:
        return "Expected the reverse primer to match the bottom strand exactly once and the top strand never"
    if template.find(forward) + len(forward) > task.target_start - 1:
        return f"Expected the forward primer to end before position {task.target_start}"
    if template.find(reverse_site) < task.target_end:
        return f"Expected the reverse primer to bind after position {task.target_end}"
    return None


def constraints_met(task: PrimerTask, forward: str, reverse: str) -> tuple[dict[str, float], dict[str, object]]:
    template = validate(task)
    problem = anneals_and_flanks(template, forward, reverse, task)
    if problem is not None:
        names = ("anneals_and_flanks", "length", "tm_window", "tm_difference", "gc_clamp")
        return dict.fromkeys(names, 0.0), {"message": problem}
    tms = [tm_nn(primer, task.conditions) for primer in (forward, reverse)]
    met = {
        "anneals_and_flanks": 1.0,
        "length": float(all(task.length_min <= len(p) <= task.length_max for p in (forward, reverse))),
        "tm_window": float(all(task.tm_min <= tm <= task.tm_max for tm in tms)),
        "tm_difference": float(abs(tms[0] - tms[1]) <= task.max_tm_diff),
        "gc_clamp": float(not task.gc_clamp or all(p[-1] in "GC" for p in (forward, reverse))),
    }
    return met, {"tm_forward": round(tms[0], 2), "tm_reverse": round(tms[1], 2)}


def _candidates(task: PrimerTask, strand_seq: str, ends: list[int]) -> list[tuple[str, float]]:
    """Primers on `strand_seq` ending (exclusive) at each of `ends` that meet every per-primer constraint."""
    found = []
    for end in ends:
        for length in range(task.length_min, task.length_max + 1):
            primer = strand_seq[max(0, end - length) : end]
            if len(primer) != length or (task.gc_clamp and primer[-1] not in "GC"):
                continue
            tm = tm_nn(primer, task.conditions)
            if task.tm_min <= tm <= task.tm_max:
                found.append((primer, tm))
    return found


def design_pair(task: PrimerTask, rng: random.Random) -> tuple[str, str] | None:
    """A pair meeting every constraint, or None: candidates near the region, first compatible pair at random."""
    template = validate(task)
    bottom = str(Seq(template).reverse_complement())
    def some(ends: range) -> list[int]:
        return sorted(rng.sample(ends, min(ENDS_TRIED, len(ends))))

    forwards = _candidates(task, template, some(range(max(1, task.target_start - 1 - SEARCH_SPAN), task.target_start)))
    first_bottom = len(template) - task.target_end  # bottom-strand index of the base just after the region
    reverses = _candidates(task, bottom, some(range(max(1, first_bottom - SEARCH_SPAN), first_bottom + 1)))
    rng.shuffle(forwards)
    for forward, tm_f in forwards:
        for reverse, tm_r in reverses:
            if abs(tm_f - tm_r) <= task.max_tm_diff and anneals_and_flanks(template, forward, reverse, task) is None:
                return forward, reverse
    return None


class PrimerDesignEnv(Environment[PrimerTask]):
    name = "primer_design"
    description = (
        "Constructive: write a forward and a reverse PCR primer (both 5'->3') that amplify a stated region of a "
        "template. Gate: the forward primer matches the top strand exactly once (the bottom never) and ends before "
        "the region; the reverse primer matches the bottom strand exactly once (the top never) and binds after it. "
        "Then: lengths in range, both Tm (Biopython Tm_NN with the stated table, concentrations and salt "
        "correction) in the window, Tm difference within the maximum, GC clamp if asked. Answer 'forward: ..., "
        "reverse: ...' (or two FASTA records, or two lines) in <answer></answer> or \\boxed{}. Reward: 0 if the gate "
        "fails, else 0.2 per constraint met out of five (gate included: all = 1.0, all but one = 0.8). Primers not "
        "found -> no_answer."
    )
    Task = PrimerTask
    Options = PrimerOptions

    def score(self, task: PrimerTask, completion: str) -> Score:
        validate(task)
        found = find_answer(completion)
        if isinstance(found, Score):
            return found
        primers = parse_primers(found.text)
        if primers is None or any(len(p) > MAX_PRIMER_LENGTH for p in primers):
            return unreadable(found, f"a forward and a reverse primer of at most {MAX_PRIMER_LENGTH} nt")
        met, details = constraints_met(task, *primers)
        reward = REWARD_PER_CONSTRAINT * sum(met.values()) if met["anneals_and_flanks"] else 0.0
        return Score(reward=reward, components=met, details={"extracted": found.text[:300], "form": found.form,
                                                             "forward": primers[0], "reverse": primers[1], **details})

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[PrimerTask]:
        options = PrimerOptions.model_validate(options.model_dump())
        conditions = TmConditions(nn_table=rng.choice(["DNA_NN3", "DNA_NN4"]), Na=50, Mg=rng.choice([0, 1.5, 2.0]),
                                  dNTPs=0, dnac1=rng.choice([250, 500]), dnac2=0, saltcorr=rng.choice([5, 7]))
        center = rng.choice([56, 58, 60, 62])
        for _ in range(MAX_GENERATION_TRIES):
            length = rng.randint(*LENGTH_BY_DIFFICULTY[options.difficulty])
            region = rng.randint(40, min(300, length // 3))
            start = rng.randint(SEARCH_SPAN // 2, length - region - SEARCH_SPAN // 2)
            task = PrimerTask(template=random_dna(rng, length), target_start=start, target_end=start + region - 1,
                              length_min=18, length_max=25, tm_min=center - 3, tm_max=center + 3,
                              max_tm_diff=TM_DIFF_BY_DIFFICULTY[options.difficulty], gc_clamp=rng.random() < 0.5,
                              conditions=conditions)
            pair = design_pair(task, rng)
            if pair is not None:
                break
        else:
            raise RuntimeError(f"Expected a template with a primer pair within {MAX_GENERATION_TRIES} tries, got none")
        clamp = " Both primers must end (3') in G or C." if task.gc_clamp else ""
        prompt = (f"Design a PCR primer pair that amplifies positions {task.target_start} to {task.target_end} "
                  f"(1-based, inclusive) of this {len(task.template)} bp template (top strand, 5' to 3'):\n"
                  f"{wrap(task.template)}\nThe forward primer must match the top strand exactly, once, and end "
                  f"before position {task.target_start}; the reverse primer must match the bottom strand exactly, "
                  f"once, and bind after position {task.target_end}; neither may match the other strand. Both "
                  f"{task.length_min}-{task.length_max} nt long, both with Tm between {task.tm_min:g} and "
                  f"{task.tm_max:g} °C, Tm difference at most {task.max_tm_diff:g} °C.{clamp} Tm by "
                  f"{conditions.describe()}. Write both 5' to 3' as 'forward: ..., reverse: ...' in "
                  "<answer></answer> tags.")
        return Generated(prompt=prompt, task=task, solution=f"<answer>forward: {pair[0]}, reverse: {pair[1]}</answer>")
