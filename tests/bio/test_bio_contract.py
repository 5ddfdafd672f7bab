"""Every bio environment: the family lists 16; own solutions score 1 over many seeds; empty and garbage answers are
no_answer; generation is deterministic per seed, different across seeds, and difficulty changes the task's size."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from typing import Callable

import pytest

from rewardgym.checks import check_env
from rewardgym.protocol import Status
from rewardgym.sdk import Environment, TaskModel, task_rng
from rewardgym_bio import FAMILY

ENVS = sorted(FAMILY.instantiate().values(), key=lambda env: env.name)
DIFFICULTIES = ("easy", "medium", "hard")
SEEDS = range(25)

CHECKED = {"dna_revcomp", "dna_translate", "orf_finder", "gc_content", "molecular_weight", "isoelectric_point",
           "melting_temp", "restriction_digest", "alignment_score", "mutation_effect", "genbank_query", "motif_search"}
CONSTRUCTIVE = {"alignment", "codon_design", "primer_design", "phylogeny"}

SIZE: dict[str, Callable[[TaskModel], int]] = {
    "dna_revcomp": lambda t: len(t.sequence),
    "dna_translate": lambda t: len(t.sequence),
    "orf_finder": lambda t: len(t.sequence),
    "gc_content": lambda t: len(t.sequence),
    "molecular_weight": lambda t: len(t.sequence),
    "isoelectric_point": lambda t: len(t.sequence),
    "melting_temp": lambda t: len(t.sequence),
    "restriction_digest": lambda t: len(t.sequence) * len(t.enzymes),
    "alignment_score": lambda t: len(t.seq_a) + len(t.seq_b),
    "mutation_effect": lambda t: len(t.cds),
    "genbank_query": lambda t: t.record.count("  gene  "),
    "motif_search": lambda t: len(t.sequence) * len(t.motif),
    "alignment": lambda t: len(t.seq_a) + len(t.seq_b),
    "codon_design": lambda t: len(t.protein) * len(t.avoid_enzymes),
    "primer_design": lambda t: len(t.template),
    "phylogeny": lambda t: len(t.taxa),
}
"""What 'the size of a task' means for each environment."""

GARBAGE = ["", "   ", "I am not sure.", "The answer is left as an exercise.", "<answer></answer>", "\\boxed{}",
           "<answer>open", "\\boxed{" * 5_000, "<answer>" + "}{" * 5_000 + "</answer>",
           "<answer>¯\\_(ツ)_/¯</answer>", "<answer>" + "Ω" * 200_000 + "</answer>",
           "<answer>" + "1" * 5_000 + "</answer>", "<answer>" + "7" * 1_000_000 + "</answer>",
           "<answer>" + "A-\n" * 40_000 + "</answer>"]


def test_family_lists_the_twelve_checked_and_four_constructive_environments() -> None:
    assert {env.name for env in ENVS} == CHECKED | CONSTRUCTIVE
    assert set(SIZE) == CHECKED | CONSTRUCTIVE


@pytest.mark.parametrize("env", ENVS, ids=lambda env: env.name)
def test_check_env(env: Environment) -> None:
    check_env(env, seeds=5)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
@pytest.mark.parametrize("env", ENVS, ids=lambda env: env.name)
def test_own_solution_scores_one_for_many_seeds(env: Environment, difficulty: str) -> None:
    for seed in SEEDS:
        generated = env.generate(task_rng(env.name, seed, 0), env.Options(difficulty=difficulty))
        score = env.score(generated.task, generated.solution)
        assert (score.status, score.reward) == (Status.OK, 1.0), (seed, generated.solution[:200], score.details)


@pytest.mark.parametrize("env", ENVS, ids=lambda env: env.name)
def test_empty_and_garbage_completions_are_no_answer(env: Environment) -> None:
    task = env.generate(task_rng(env.name, 1, 0), env.Options()).task
    for completion in GARBAGE:
        score = env.score(task, completion)
        assert (score.status, score.reward) == (Status.NO_ANSWER, 0.0), (completion[:50], score)


@pytest.mark.parametrize("env", ENVS, ids=lambda env: env.name)
def test_generation_is_deterministic_per_seed_and_differs_across_seeds(env: Environment) -> None:
    options = env.Options(difficulty="medium")
    tasks = [env.generate(task_rng(env.name, seed, 0), options) for seed in range(6)]
    again = [env.generate(task_rng(env.name, seed, 0), options) for seed in range(6)]
    assert [(g.prompt, g.task) for g in tasks] == [(g.prompt, g.task) for g in again]
    assert len({g.prompt for g in tasks}) == len(tasks)


@pytest.mark.parametrize("env", ENVS, ids=lambda env: env.name)
def test_difficulty_changes_the_size(env: Environment) -> None:
    sizes = {difficulty: statistics.mean(SIZE[env.name](env.generate(task_rng(env.name, seed, 0),
                                                                     env.Options(difficulty=difficulty)).task)
                                         for seed in range(8))
             for difficulty in DIFFICULTIES}
    assert sizes["easy"] < sizes["medium"] < sizes["hard"], sizes


@pytest.mark.parametrize("env", ENVS, ids=lambda env: env.name)
def test_prompt_states_the_answer_format_and_description_the_reward(env: Environment) -> None:
    generated = env.generate(task_rng(env.name, 3, 0), env.Options())
    assert "<answer></answer>" in generated.prompt
    assert "Reward" in env.description and "no_answer" in env.description


_DIGEST_SCRIPT = """
import hashlib
from rewardgym_bio import FAMILY
from rewardgym.sdk import task_rng
out = hashlib.sha256()
for name, env in sorted(FAMILY.instantiate().items()):
    for difficulty in ("easy", "hard"):
        for seed in range(2):
            made = env.generate(task_rng(name, seed, 0), env.Options(difficulty=difficulty))
            out.update((made.prompt + made.task.model_dump_json() + made.solution).encode())
print(out.hexdigest())
"""


def test_generation_does_not_depend_on_the_process_hash_seed() -> None:
    """Two workers (or a container and the host) must generate the same task: no set or dict order may leak in."""
    digests = {subprocess.run([sys.executable, "-c", _DIGEST_SCRIPT], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(digests) == 1
