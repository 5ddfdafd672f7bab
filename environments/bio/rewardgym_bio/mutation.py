"""`mutation_effect`: classify a point substitution in a coding sequence and name the protein change (`p.K12R`)."""

from __future__ import annotations

import random
import re
from typing import Literal

from Bio.Seq import Seq
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_bio.answers import normalise_words
from rewardgym_bio.common import find_answer, random_cds, require_dna, require_table, unreadable, wrap

REWARD_FULL = 1.0
REWARD_CLASS_ONLY = 0.5
REWARD_WRONG = 0.0

CODONS_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (8, 15), "medium": (30, 80), "hard": (120, 300)}
MAX_GENERATION_TRIES = 100
MAX_EFFECT_CHARS = 500
"""'missense, p.Lys12Arg' with some prose around it; longer text is not read."""

Effect = Literal["synonymous", "missense", "nonsense"]
_CLASS_WORDS: dict[str, Effect] = {
    "synonymous": "synonymous", "silent": "synonymous", "missense": "missense", "nonsynonymous": "missense",
    "non-synonymous": "missense", "nonsense": "nonsense", "stop gained": "nonsense", "stop-gained": "nonsense",
    "stop_gained": "nonsense",
}
_CLASS_RE = re.compile(r"(?i)\b(non-?synonymous|synonymous|silent|missense|nonsense|stop[ _-]gained)\b")
_CHANGE_RE = re.compile(r"p\.\s*\(?\s*([A-Z](?:[a-z]{2})?|\*)\s*(\d+)\s*([A-Z](?:[a-z]{2})?|\*|=)\s*\)?")
_THREE = {"Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G",
          "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S",
          "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Ter": "*"}


class MutationTask(TaskModel):
    cds: str = Field(description="Coding sequence 5'->3', ATG ... stop, a multiple of 3 nt.")
    position: int = Field(ge=1, description="1-based position in the CDS of the substituted base.")
    alt: Literal["A", "C", "G", "T"] = Field(description="The new base.")
    table: int = Field(default=1, description="NCBI translation table id.")


class MutationOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 8-15 codons; medium: 30-80; hard: 120-300."""


def gold_effect(task: MutationTask) -> tuple[Effect, str]:
    """The class and the change in one-letter HGVS style: p.K12R, p.K12=, p.K12*."""
    cds = require_dna(task.cds, "cds")
    require_table(task.table)
    if len(cds) % 3:
        raise InvalidTask(f"Expected a CDS length that is a multiple of 3, got {len(cds)}")
    codons = len(cds) // 3
    if not 4 <= task.position <= len(cds) - 3:
        raise InvalidTask(f"Expected a position in codons 2..{codons - 1} (4..{len(cds) - 3}), got {task.position}; "
                          "start and stop codons are out of scope")
    if cds[task.position - 1] == task.alt:
        raise InvalidTask(f"Expected alt to differ from the reference base {cds[task.position - 1]}, got {task.alt}")
    mutated = cds[: task.position - 1] + task.alt + cds[task.position :]
    index = (task.position - 1) // 3
    ref = str(Seq(cds[3 * index : 3 * index + 3]).translate(table=task.table))
    alt = str(Seq(mutated[3 * index : 3 * index + 3]).translate(table=task.table))
    if ref == "*":
        raise InvalidTask(f"Expected codon {index + 1} to be a sense codon, got a stop")
    if alt == ref:
        return "synonymous", f"p.{ref}{index + 1}="
    return ("nonsense" if alt == "*" else "missense"), f"p.{ref}{index + 1}{alt}"


def parse_effect(text: str) -> tuple[Effect | None, str | None]:
    """The class named (first class word) and the protein change, each None when absent."""
    if len(text) > MAX_EFFECT_CHARS:
        return None, None
    found_class = _CLASS_RE.search(text)
    effect = _CLASS_WORDS[normalise_words(found_class.group(1)).replace("_", " ")] if found_class else None
    change = None
    if (match := _CHANGE_RE.search(text)) is not None:
        ref, number, alt = match.groups()
        ref, alt = _THREE.get(ref, ref), _THREE.get(alt, alt)
        if len(ref) == 1 and len(alt) == 1:
            change = f"p.{ref}{number}{alt}"
    return effect, change


class MutationEffectEnv(Environment[MutationTask]):
    name = "mutation_effect"
    description = (
        "A point substitution in a coding sequence (1-based position, new base, stated NCBI table): classify it "
        "(synonymous, missense or nonsense) and name the protein change in HGVS-like one-letter form: p.K12R, "
        "p.K12= (synonymous), p.K12* (nonsense); three-letter forms (p.Lys12Arg, p.Lys12Ter) accepted. Answer "
        "'<class>, <change>' in <answer></answer> or \\boxed{}. Reward 1.0 class and change right, 0.5 class right "
        "only, else 0.0 (components class, change); neither a class nor a change found -> no_answer."
    )
    Task = MutationTask
    Options = MutationOptions

    def score(self, task: MutationTask, completion: str) -> Score:
        gold_class, gold_change = gold_effect(task)
        found = find_answer(completion)
        if isinstance(found, Score):
            return found
        effect, change = parse_effect(found.text)
        if effect is None and change is None:
            return unreadable(found, "a class (synonymous/missense/nonsense) and a change like p.K12R")
        class_ok, change_ok = effect == gold_class, change == gold_change
        reward = REWARD_FULL if class_ok and change_ok else REWARD_CLASS_ONLY if class_ok else REWARD_WRONG
        return Score(reward=reward, components={"class": float(class_ok), "change": float(change_ok)},
                     details={"extracted": found.text[:300], "form": found.form, "class": effect, "change": change})

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[MutationTask]:
        options = MutationOptions.model_validate(options.model_dump())
        table = require_table(1)
        cds = random_cds(rng, rng.randint(*CODONS_BY_DIFFICULTY[options.difficulty]), table)
        wanted: Effect = rng.choice(["synonymous", "missense", "nonsense"])
        for _ in range(MAX_GENERATION_TRIES):  # draw until the wanted class, so the three are equally common
            position = rng.randint(4, len(cds) - 3)
            alt = rng.choice([base for base in "ACGT" if base != cds[position - 1]])
            task = MutationTask(cds=cds, position=position, alt=alt, table=1)  # type: ignore[arg-type]
            effect, change = gold_effect(task)
            if effect == wanted:
                break
        ref = cds[position - 1]
        prompt = (f"This coding sequence ({len(cds)} nt, 5' to 3', ATG at position 1, translated with "
                  f"NCBI translation table 1 (Standard)) carries the substitution c.{position}{ref}>{alt} (position "
                  f"{position}, 1-based, {ref} replaced by {alt}).\n{wrap(cds)}\nClassify it as synonymous, missense "
                  "or nonsense and name the protein change in one-letter form with the codon number (e.g. p.K12R, "
                  "p.K12= if synonymous, p.K12* if a stop is gained). Answer as '<class>, <change>' in "
                  "<answer></answer> tags.")
        return Generated(prompt=prompt, task=task, solution=f"<answer>{effect}, {change}</answer>")
