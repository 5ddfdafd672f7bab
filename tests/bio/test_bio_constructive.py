"""Constructive bio environments: two different valid answers both score 1; an answer meeting all constraints but
one scores the documented partial reward; the column scorer agrees with Biopython's optimum."""

from __future__ import annotations

import random
import re

import pytest
from Bio import Phylo, Restriction
from Bio.Seq import Seq
from io import StringIO

from rewardgym.protocol import Status
from rewardgym.sdk import task_rng
from rewardgym_bio import FAMILY
from rewardgym_bio.alignment import PARTIAL_WEIGHT, alignment_value
from rewardgym_bio.codon_design import SYNONYMS, constraints_met
from rewardgym_bio.primer_design import design_pair
from rewardgym_bio.scheme import aligner

ENVS = FAMILY.instantiate()
SEEDS = range(15)
DIFFICULTIES = ("easy", "medium", "hard")


def generated(name: str, seeds: range = SEEDS):
    env = ENVS[name]
    for difficulty in DIFFICULTIES:
        for seed in seeds:
            made = env.generate(task_rng(name, seed, 0), env.Options(difficulty=difficulty))
            yield env, made.task, re.search(r"<answer>(.*)</answer>", made.solution, re.S).group(1)


def score(env, task, answer: str):
    result = env.score(task, f"<answer>{answer}</answer>")
    assert result.status == Status.OK, result
    return result


# alignment ---------------------------------------------------------------------------------------------------------

def test_column_scorer_agrees_with_biopython_on_every_optimal_alignment() -> None:
    for env, task, _ in generated("alignment"):
        found = aligner(task.scheme, "global").align(task.seq_a, task.seq_b)
        optimum = found.score
        for alignment in list(found)[:5]:
            assert alignment_value(alignment[0], alignment[1], task.scheme) == pytest.approx(optimum)


def test_two_different_optimal_alignments_both_score_one() -> None:
    seen = 0
    for env, task, _ in generated("alignment"):
        found = aligner(task.scheme, "global").align(task.seq_a, task.seq_b)
        if len(found) < 2:
            continue
        first, second = found[0], found[1]
        assert (first[0], first[1]) != (second[0], second[1])
        for rows in ((first[0], first[1]), (second[0], second[1])):
            assert score(env, task, f"A: {rows[0]}\nB: {rows[1]}").reward == 1.0
        seen += 1
    assert seen >= 5


def test_a_valid_suboptimal_alignment_gets_the_documented_partial_credit() -> None:
    env = ENVS["alignment"]
    task = env.Task(seq_a="ACGTACGT", seq_b="ACGTTCGT", scheme={"match": 2, "mismatch": -1, "open_gap": -3,
                                                               "extend_gap": -1})
    optimum = 2 * 7 - 1  # one mismatch, no gaps
    assert score(env, task, "ACGTACGT\nACGTTCGT").reward == 1.0
    result = score(env, task, "ACGTA-CGT\nACGT-TCGT")  # 7 matches, two gaps of one: 14 - 6 = 8
    assert result.reward == pytest.approx(PARTIAL_WEIGHT * 8 / optimum)
    assert result.components == {"valid": 1.0, "optimal": 0.0, "score_ratio": pytest.approx(8 / optimum)}


@pytest.mark.parametrize(("rows", "message"), [
    ("ACGTACGT\nACGTTCG", "equal length"),
    ("ACGTACGA\nACGTTCGT", "first row without gaps"),
    ("ACGT-ACGT\nACGT-TCGT", "no column with a gap in both"),
])
def test_invalid_alignments_score_zero(rows: str, message: str) -> None:
    env = ENVS["alignment"]
    task = env.Task(seq_a="ACGTACGT", seq_b="ACGTTCGT", scheme={})
    result = score(env, task, rows)
    assert result.reward == 0.0 and message in result.details["message"]


def test_alignment_rows_in_fasta_form() -> None:
    env = ENVS["alignment"]
    task = env.Task(seq_a="ACGTACGT", seq_b="ACGTTCGT", scheme={})
    assert score(env, task, ">seq_a\nACGTACGT\n>seq_b\nacgt tcgt").reward == 1.0


# codon_design ------------------------------------------------------------------------------------------------------

def alternatives(task, dna: str):
    """Every sequence one synonymous codon away from `dna`."""
    codons = [dna[i : i + 3] for i in range(0, len(dna), 3)]
    for index, residue in enumerate(task.protein):
        for codon in SYNONYMS[residue]:
            if codon != codons[index]:
                yield "".join(codons[:index] + [codon] + codons[index + 1 :])


def test_two_different_designs_both_score_one() -> None:
    for env, task, dna in generated("codon_design"):
        other = next(candidate for candidate in alternatives(task, dna)
                     if all(constraints_met(task, candidate).values()))
        assert other != dna
        assert score(env, task, dna).reward == 1.0 and score(env, task, other).reward == 1.0
        assert score(env, task, dna[:-3] + "TGA").reward == 1.0  # another stop codon


def test_codon_design_all_but_one_constraint_scores_three_quarters() -> None:
    for env, task, dna in generated("codon_design"):
        gc = sum(base in "GC" for base in dna) / len(dna)
        index = env.score(task, f"<answer>{dna}</answer>")
        assert index.reward == 1.0
        strict_cai = task.model_copy(update={"min_cai": 1.0})
        narrow_gc = task.model_copy(update={"gc_min": round(gc + 0.01, 3), "gc_max": round(gc + 0.02, 3)})
        site = next(name for name in Restriction.AllEnzymes.elements()
                    if len(getattr(Restriction, name).site) == 4
                    and getattr(Restriction, name).search(Seq(dna), linear=True))
        with_site = task.model_copy(update={"avoid_enzymes": [*task.avoid_enzymes, site]})
        for broken, constraint in ((strict_cai, "cai"), (narrow_gc, "gc_window"), (with_site, "no_sites")):
            result = score(env, broken, dna)
            if constraint == "cai" and result.components["cai"] == 1.0:
                continue  # every codon already has w = 1
            assert result.reward == 0.75 and result.components[constraint] == 0.0, (constraint, result)


def test_codon_design_gate_a_sequence_that_does_not_encode_scores_zero() -> None:
    env, task, dna = next(generated("codon_design"))
    frameshift = dna[:4] + dna[5:]
    missense = dna[:3] + next(c for c in ("TGG", "AAA") if str(Seq(c).translate()) != task.protein[1]) + dna[6:]
    no_stop = dna[:-3]
    for wrong in (frameshift, missense, no_stop, dna + "TAA"):
        result = score(env, task, wrong)
        assert result.reward == 0.0 and result.components["encodes"] == 0.0


# primer_design -----------------------------------------------------------------------------------------------------

def primers(answer: str) -> tuple[str, str]:
    forward, reverse = re.match(r"forward: (\w+), reverse: (\w+)", answer).groups()
    return forward, reverse


def test_two_different_primer_pairs_both_score_one() -> None:
    checked = 0
    for env, task, answer in generated("primer_design", range(6)):
        pair = primers(answer)
        others = {design_pair(task, random.Random(seed)) for seed in range(4)} - {pair, None}
        if not others:
            continue
        other = sorted(others)[0]
        assert score(env, task, answer).reward == 1.0
        assert score(env, task, f">fwd\n{other[0]}\n>rev\n{other[1]}").reward == 1.0
        checked += 1
    assert checked >= 6


def test_primer_design_all_but_one_constraint_scores_four_fifths() -> None:
    for env, task, answer in generated("primer_design"):
        forward, reverse = primers(answer)
        details = score(env, task, answer).details
        tm_f, tm_r = details["tm_forward"], details["tm_reverse"]
        broken = {
            "length": task.model_copy(update={"length_max": min(len(forward), len(reverse)) - 1,
                                              "length_min": min(len(forward), len(reverse)) - 2}),
            "tm_window": task.model_copy(update={"tm_min": max(tm_f, tm_r) + 1, "tm_max": max(tm_f, tm_r) + 40}),
        }
        if abs(tm_f - tm_r) > 0.1:
            broken["tm_difference"] = task.model_copy(update={"max_tm_diff": abs(tm_f - tm_r) / 2})
        for constraint, changed in broken.items():
            result = score(env, changed, answer)
            assert result.reward == pytest.approx(0.8) and result.components[constraint] == 0.0, (constraint, result)


def test_primer_design_gate() -> None:
    env, task, answer = next(generated("primer_design"))
    forward, reverse = primers(answer)
    for wrong in (f"forward: {reverse}, reverse: {forward}",  # wrong strands
                  f"forward: {forward[:-1] + ('A' if forward[-1] != 'A' else 'C')}, reverse: {reverse}",
                  f"forward: {forward}, reverse: {str(Seq(reverse).reverse_complement())}"):
        result = score(env, task, wrong)
        assert result.reward == 0.0 and result.components["anneals_and_flanks"] == 0.0, wrong


def test_primer_design_clamp_broken_costs_one_fifth() -> None:
    for env, task, answer in generated("primer_design"):
        if not task.gc_clamp:
            continue
        forward, reverse = primers(answer)
        clamped = task.model_copy(update={"gc_clamp": False})
        assert score(env, clamped, answer).reward == 1.0
        template = task.template
        at = template.find(forward)
        longer = template[at : at + len(forward) + 1]
        if longer[-1] in "AT" and task.length_min <= len(longer) <= task.length_max:
            result = score(env, task, f"forward: {longer}, reverse: {reverse}")
            assert result.components["gc_clamp"] == 0.0 and result.reward < 1.0


# phylogeny ---------------------------------------------------------------------------------------------------------

def test_the_same_topology_written_differently_scores_one() -> None:
    for env, task, newick in generated("phylogeny"):
        tree = Phylo.read(StringIO(newick), "newick")
        for clade in tree.find_clades():
            clade.clades.reverse()
            clade.branch_length = None
            clade.name = clade.name if clade.is_terminal() else None
        out = StringIO()
        Phylo.write(tree, out, "newick", plain=True)
        rewritten = out.getvalue().strip()
        assert rewritten != newick
        assert score(env, task, rewritten).reward == 1.0
        tree.root_with_outgroup(sorted(task.taxa)[-1])
        out = StringIO()
        Phylo.write(tree, out, "newick")
        assert score(env, task, out.getvalue().strip()).reward == 1.0  # rerooted: same unrooted topology


def test_swapping_two_leaves_costs_the_normalised_robinson_foulds_distance() -> None:
    partial = 0
    for env, task, newick in generated("phylogeny"):
        if len(task.taxa) < 5:
            continue
        tree = Phylo.read(StringIO(newick), "newick")
        leaves = tree.get_terminals()
        a, b = leaves[0], leaves[-1]
        a.name, b.name = b.name, a.name
        out = StringIO()
        Phylo.write(tree, out, "newick")
        result = score(env, task, out.getvalue().strip())
        distance = result.details["robinson_foulds"]
        assert result.reward == pytest.approx(1 - distance / (2 * (len(task.taxa) - 3)))
        assert result.components["leaves"] == 1.0
        partial += result.reward < 1
    assert partial >= 10


def test_phylogeny_wrong_leaves_score_zero() -> None:
    env, task, newick = next(generated("phylogeny"))
    result = score(env, task, newick.replace(task.taxa[0], "Intruder"))
    assert result.reward == 0.0 and result.components["leaves"] == 0.0


def wrapped(sequence: str, width: int = 10) -> str:
    return "\n".join(sequence[i : i + width] for i in range(0, len(sequence), width))


FORMS: dict[str, list] = {
    "alignment": [lambda a: a, lambda a: "A: " + a.strip().replace("\n", "\nB: "),
                  lambda a: ">seq_a\n" + a.strip().replace("\n", "\n>seq_b\n"), lambda a: a.lower(),
                  lambda a: a.replace("-", ".")],
    "codon_design": [lambda a: a, lambda a: a.lower(), lambda a: ">design\n" + wrapped(a), lambda a: f"5'-{a}-3'",
                     lambda a: f"```\n{wrapped(a, 60)}\n```"],
    "primer_design": [lambda a: a, lambda a: "reverse: {1}\nforward: {0}".format(*primers(a)),
                      lambda a: "Forward primer: 5'-{0}-3'\nReverse primer: 5'-{1}-3'".format(*primers(a)),
                      lambda a: ">fwd\n{0}\n>rev\n{1}".format(*primers(a)), lambda a: "{0}\n{1}".format(*primers(a)),
                      lambda a: "fwd = {0}; rev = {1}".format(*primers(a))],
    "phylogeny": [lambda a: a, lambda a: a.rstrip(";"), lambda a: re.sub(r":[-\d.eE]+", "", a),
                  lambda a: re.sub(r"\)Inner\d+", ")", a), lambda a: a.replace(",", ",\n  ")],
}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_accepted_answer_forms_of_constructive_environments(name: str) -> None:
    for env, task, answer in generated(name, range(4)):
        for form in FORMS[name]:
            written = form(answer)
            for completion in (f"<answer>{written}</answer>", f"Here it is.\n<answer>\n{written}\n</answer>"):
                result = env.score(task, completion)
                assert (result.status, result.reward) == (Status.OK, 1.0), (written, result)


def test_an_unresolved_tree_earns_only_the_bipartitions_it_has() -> None:
    for env, task, newick in generated("phylogeny", range(5)):
        star = "(" + ",".join(task.taxa) + ");"
        assert score(env, task, star).reward == 0.0  # a star tree has no bipartition: no free half reward
        tree = Phylo.read(StringIO(newick), "newick")
        cherry = next(clade for clade in tree.find_clades() if len(clade.clades) == 2
                      and all(child.is_terminal() for child in clade.clades))
        pair = sorted(child.name for child in cherry.clades)
        rest = [name for name in task.taxa if name not in pair]
        one_split = score(env, task, f"(({pair[0]},{pair[1]}),{','.join(rest)});")
        assert one_split.reward == pytest.approx(1 / (len(task.taxa) - 3))


def test_deeply_nested_newick_is_no_answer_not_an_error() -> None:
    env, task, _ = next(generated("phylogeny"))
    for deep in ("(" * 3000 + "A,B" + ")" * 3000 + ";", "(" * 3000 + "A" + ",B)" * 3000 + ";"):
        assert env.score(task, f"<answer>{deep}</answer>").status == Status.NO_ANSWER
