"""`alignment_score`: the optimal global or local pairwise alignment score under a stated scheme; exact integer."""

from __future__ import annotations

import random
from typing import Literal

from rewardgym.sdk import Environment, Generated, GenerateOptions, Score, TaskModel

from rewardgym_bio.answers import parse_int
from rewardgym_bio.common import exact_answer, per_task
from rewardgym_bio.scheme import Scheme, optimal_score, random_scheme, related_pair

LENGTH_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (6, 12), "medium": (20, 50), "hard": (80, 200)}


class AlignmentScoreTask(TaskModel):
    seq_a: str
    seq_b: str
    mode: Literal["global", "local"]
    scheme: Scheme


class AlignmentScoreOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 6-12 letters; medium: 20-50; hard: 80-200 (DNA or protein, global or local)."""


@per_task
def gold_score(task: AlignmentScoreTask) -> int:
    return int(round(optimal_score(task.seq_a, task.seq_b, task.scheme, task.mode)))


class AlignmentScoreEnv(Environment[AlignmentScoreTask]):
    name = "alignment_score"
    description = (
        "Optimal global (Needleman-Wunsch) or local (Smith-Waterman) alignment score of two DNA or protein "
        "sequences under a fully stated scheme: match/mismatch or a named substitution matrix, affine gaps "
        "(open + (L-1) x extend, end gaps like internal ones). Gold: Biopython's PairwiseAligner with every score "
        "set explicitly. Answer one integer in <answer></answer> or \\boxed{}. Reward 1.0 if equal, else 0.0; "
        "no readable integer -> no_answer."
    )
    Task = AlignmentScoreTask
    Options = AlignmentScoreOptions

    def score(self, task: AlignmentScoreTask, completion: str) -> Score:
        gold = gold_score(task)
        return exact_answer(completion, parse_int, "one integer", gold)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[AlignmentScoreTask]:
        options = AlignmentScoreOptions.model_validate(options.model_dump())
        protein = rng.random() < 0.5
        seq_a, seq_b = related_pair(rng, rng.randint(*LENGTH_BY_DIFFICULTY[options.difficulty]), protein)
        task = AlignmentScoreTask(seq_a=seq_a, seq_b=seq_b, mode=rng.choice(["global", "local"]),
                                  scheme=random_scheme(rng, protein))
        kind = "protein" if protein else "DNA"
        method = ("global (Needleman-Wunsch: both sequences aligned end to end)" if task.mode == "global"
                  else "local (Smith-Waterman: the best-scoring pair of substrings; the empty alignment scores 0)")
        prompt = (f"Compute the optimal {method} alignment score of these two {kind} sequences.\n"
                  f"A: {seq_a}\nB: {seq_b}\nScoring: {task.scheme.describe()}. Give the score as one integer "
                  "in <answer></answer> tags.")
        return Generated(prompt=prompt, task=task, solution=f"<answer>{gold_score(task)}</answer>")
