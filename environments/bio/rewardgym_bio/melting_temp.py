"""`melting_temp`: a primer's Tm by a stated method with every parameter stated, within 0.5 °C."""

from __future__ import annotations

import random
from typing import Literal

from Bio.SeqUtils import MeltingTemp
from pydantic import BaseModel, ConfigDict, Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_bio.answers import parse_number
from rewardgym_bio.common import numeric_answer, random_dna, require_dna

LENGTH_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (10, 14), "medium": (18, 25), "hard": (26, 40)}
TOLERANCE_C = 0.5
MAX_PRIMER_LENGTH = 100

NN_TABLES: dict[str, str] = {
    "DNA_NN1": "Breslauer et al. (1986)",
    "DNA_NN2": "Sugimoto et al. (1996)",
    "DNA_NN3": "Allawi & SantaLucia (1997)",
    "DNA_NN4": "SantaLucia & Hicks (2004)",
}
SALT_CORRECTIONS: dict[int, str] = {
    0: "no salt correction",
    1: "Schildkraut & Lifson (1965): 16.6 log10[Na+]",
    2: "Wetmur (1991)",
    5: "SantaLucia (1998): entropy correction 0.368 (N-1) ln[Na+]",
    6: "Owczarzy et al. (2004)",
    7: "Owczarzy et al. (2008), with Mg2+",
}
Method = Literal["wallace", "gc", "nn"]


class TmConditions(BaseModel):
    """The conditions of a nearest-neighbour Tm: all of Biopython's Tm_NN parameters that change the result."""

    model_config = ConfigDict(extra="forbid")

    nn_table: Literal["DNA_NN1", "DNA_NN2", "DNA_NN3", "DNA_NN4"] = "DNA_NN3"
    Na: float = Field(default=50.0, ge=0, le=2000, description="mM")
    K: float = Field(default=0.0, ge=0, le=2000, description="mM")
    Tris: float = Field(default=0.0, ge=0, le=2000, description="mM")
    Mg: float = Field(default=0.0, ge=0, le=1000, description="mM")
    dNTPs: float = Field(default=0.0, ge=0, le=1000, description="mM")
    dnac1: float = Field(default=250.0, gt=0, le=1e6, description="nM, the higher concentrated strand")
    dnac2: float = Field(default=0.0, ge=0, le=1e6, description="nM, the lower concentrated strand")
    saltcorr: Literal[0, 1, 2, 5, 6, 7] = 5

    def describe(self) -> str:
        return (f"nearest-neighbour thermodynamics with the {NN_TABLES[self.nn_table]} table (Biopython "
                f"{self.nn_table}); strand concentrations {self.dnac1:g} nM and {self.dnac2:g} nM; Na+ {self.Na:g} mM, "
                f"K+ {self.K:g} mM, Tris {self.Tris:g} mM, Mg2+ {self.Mg:g} mM, dNTPs {self.dNTPs:g} mM; salt "
                f"correction method {self.saltcorr} ({SALT_CORRECTIONS[self.saltcorr]}); no mismatches, no dangling "
                "ends, not self-complementary")


def tm_nn(sequence: str, conditions: TmConditions) -> float:
    """Biopython's Tm_NN with every parameter explicit: no default of any release decides a result."""
    return MeltingTemp.Tm_NN(
        sequence, check=True, strict=True, c_seq=None, shift=0, nn_table=getattr(MeltingTemp, conditions.nn_table),
        tmm_table=MeltingTemp.DNA_TMM1, imm_table=MeltingTemp.DNA_IMM1, de_table=MeltingTemp.DNA_DE1,
        dnac1=conditions.dnac1, dnac2=conditions.dnac2, selfcomp=False, Na=conditions.Na, K=conditions.K,
        Tris=conditions.Tris, Mg=conditions.Mg, dNTPs=conditions.dNTPs, saltcorr=conditions.saltcorr)


class TmTask(TaskModel):
    sequence: str = Field(description="Primer DNA, 5'->3'.")
    method: Method = Field(description="wallace: 4(G+C)+2(A+T); gc: 69.3 + 0.41 %GC - 650/N; nn: nearest neighbour.")
    conditions: TmConditions = Field(default_factory=TmConditions, description="Used by method nn only.")


class TmOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 10-14 nt by the Wallace rule; medium: 18-25 nt, GC formula or NN; hard: 26-40 nt, NN with Mg2+."""


def gold_tm(task: TmTask) -> float:
    sequence = require_dna(task.sequence, "primer", MAX_PRIMER_LENGTH)
    if task.method == "wallace":
        return MeltingTemp.Tm_Wallace(sequence, check=True, strict=True)
    if task.method == "gc":
        return MeltingTemp.Tm_GC(sequence, check=True, strict=True, valueset=1, userset=None, Na=50, K=0, Tris=0,
                                 Mg=0, dNTPs=0, saltcorr=0, mismatch=True)
    if len(sequence) < 2:
        raise InvalidTask(f"Expected a primer of at least 2 nt for nearest-neighbour Tm, got {len(sequence)}")
    return tm_nn(sequence, task.conditions)


def method_text(task: TmTask) -> str:
    if task.method == "wallace":
        return "the Wallace rule, Tm = 2 °C x (A+T) + 4 °C x (G+C)"
    if task.method == "gc":
        return ("the GC formula Tm = 69.3 + 0.41 x (%GC) - 650 / N (N the length; Biopython Tm_GC valueset 1, no salt "
                "correction)")
    return task.conditions.describe()


class MeltingTempEnv(Environment[TmTask]):
    name = "melting_temp"
    description = (
        "Melting temperature of a DNA primer by a stated method: Wallace rule, the GC formula (69.3 + 0.41 %GC - "
        "650/N), or nearest-neighbour thermodynamics with a stated table, strand and salt concentrations and salt "
        "correction (Biopython Tm_NN, every parameter passed explicitly). Answer in °C (°C, C, degrees accepted) in "
        "<answer></answer> or \\boxed{}. Reward 1.0 within 0.5 °C, else 0.0; no readable number -> no_answer."
    )
    Task = TmTask
    Options = TmOptions

    def score(self, task: TmTask, completion: str) -> Score:
        gold = gold_tm(task)
        return numeric_answer(completion, lambda text: parse_number(text, "temperature"), "a temperature in °C", gold,
                              TOLERANCE_C)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[TmTask]:
        options = TmOptions.model_validate(options.model_dump())
        sequence = random_dna(rng, rng.randint(*LENGTH_BY_DIFFICULTY[options.difficulty]))
        if options.difficulty == "easy":
            task = TmTask(sequence=sequence, method="wallace")
        elif options.difficulty == "medium" and rng.random() < 0.5:
            task = TmTask(sequence=sequence, method="gc")
        else:
            hard = options.difficulty == "hard"
            conditions = TmConditions(
                nn_table=rng.choice(sorted(NN_TABLES)), Na=rng.choice([10, 50, 100]),
                K=rng.choice([0, 50]) if hard else 0,
                Tris=rng.choice([0, 10]) if hard else 0, Mg=rng.choice([1.5, 2.0, 3.0]) if hard else 0,
                dNTPs=rng.choice([0.2, 0.8]) if hard else 0, dnac1=rng.choice([50, 250, 500]), dnac2=0,
                saltcorr=7 if hard else rng.choice([1, 2, 5, 6]))
            task = TmTask(sequence=sequence, method="nn", conditions=conditions)
        prompt = (f"Compute the melting temperature of the primer 5'-{sequence}-3' ({len(sequence)} nt) using "
                  f"{method_text(task)}. Answers within {TOLERANCE_C} °C count as correct. Give the Tm in °C in "
                  "<answer></answer> tags.")
        return Generated(prompt=prompt, task=task, solution=f"<answer>{gold_tm(task):.2f} °C</answer>")
