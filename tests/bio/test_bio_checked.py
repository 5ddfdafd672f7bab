"""The checked bio environments: perturbed answers score below 1, accepted answer forms score 1, bad tasks are
invalid_task. Each perturbation is the near miss a model makes: one base or residue, another frame or strand, a
number just outside the tolerance."""

from __future__ import annotations

import random
import re

import pytest
from Bio import Restriction
from Bio.Seq import Seq

from rewardgym.protocol import Status
from rewardgym.sdk import Environment, InvalidTask, task_rng
from rewardgym_bio import FAMILY
from rewardgym_bio.common import per_task
from rewardgym_bio.restriction import fragment_lengths

ENVS = FAMILY.instantiate()
SEEDS = range(20)
DIFFICULTIES = ("easy", "medium", "hard")


def cases(name: str):
    env = ENVS[name]
    for difficulty in DIFFICULTIES:
        for seed in SEEDS:
            generated = env.generate(task_rng(name, seed, 0), env.Options(difficulty=difficulty))
            yield env, generated.task, re.search(r"<answer>(.*)</answer>", generated.solution, re.S).group(1)


def reward(env: Environment, task, answer: str) -> float:
    score = env.score(task, f"<think>work</think> <answer>{answer}</answer>")
    assert score.status == Status.OK, score
    return score.reward


def one_letter_changed(sequence: str, alphabet: str, at: int = 0) -> str:
    at %= len(sequence)
    return sequence[:at] + next(c for c in alphabet if c != sequence[at]) + sequence[at + 1 :]


def test_revcomp_near_misses() -> None:
    for env, task, gold in cases("dna_revcomp"):
        assert reward(env, task, one_letter_changed(gold, "ACGU", len(gold) // 2)) == 0.0
        assert reward(env, task, gold.lower()) == 1.0
        if task.operation == "reverse_complement":
            assert reward(env, task, str(Seq(task.sequence).complement())) == 0.0  # complement, not reversed
            assert reward(env, task, f">rc\n{gold[:10]}\n{gold[10:]}") == 1.0
        else:
            assert reward(env, task, task.sequence) == 0.0  # DNA letters where U is expected: no T allowed
            assert reward(env, task, f"5'-{gold}-3'") == 1.0


def test_translate_near_misses() -> None:
    for env, task, gold in cases("dna_translate"):
        assert reward(env, task, one_letter_changed(gold, "AW", len(gold) // 2)) == 0.0
        shifted = str(Seq(task.sequence[1:-2]).translate(table=task.table))
        if shifted != gold:
            assert reward(env, task, shifted) == 0.0
        if task.stops == "to_first_stop":
            assert reward(env, task, gold + "*") == 1.0


def test_translate_uses_the_stated_table() -> None:
    env = ENVS["dna_translate"]
    task = env.Task(sequence="ATGTGAAAATAA", table=2, stops="to_first_stop")  # TGA is Trp in table 2
    assert reward(env, task, "MWK") == 1.0
    assert reward(env, task, "M") == 0.0
    assert reward(env, task, "Met-Trp-Lys") == 1.0


def test_orf_near_misses() -> None:
    for env, task, gold in cases("orf_finder"):
        if task.report == "protein":
            assert reward(env, task, one_letter_changed(gold, "AW", 3)) == 0.0
            assert reward(env, task, gold[1:]) == 0.0
            continue
        start, end, strand = [part.strip() for part in gold.split(",")]
        flipped = "-" if strand == "+" else "+"
        assert reward(env, task, f"{start}, {end}, {flipped}") == 0.0
        assert reward(env, task, f"{int(start) + 3}, {end}, {strand}") == 0.0
        assert reward(env, task, f"{start}..{end} ({strand})") == 1.0
        word = "plus" if strand == "+" else "minus"
        assert reward(env, task, f"start={start}, end={end}, strand={word}") == 1.0
        if strand == "-":
            assert reward(env, task, f"complement({start}..{end})") == 1.0


def test_orf_on_both_strands_by_hand() -> None:
    env = ENVS["orf_finder"]
    forward = "ATGAAACCCGGGTAA"  # M K P G, 15 nt on +
    reverse = str(Seq("ATGAAACCCGGGTTTAAATAG").reverse_complement())  # M K P G F K, 21 nt on -
    task = env.Task(sequence="CC" + forward + "CC" + reverse + "CC", min_protein_length=3, report="coordinates")
    assert reward(env, task, "20, 40, -") == 1.0
    assert reward(env, task, "3, 17, +") == 0.0  # an ORF, not the longest
    protein_task = task.model_copy(update={"report": "protein"})
    assert reward(env, protein_task, "MKPGFK") == 1.0


def numeric_cases(name: str, step: float):
    for env, task, gold in cases(name):
        value = float(re.match(r"[-\d.]+", gold).group(0))
        assert reward(env, task, f"{value + step:.4f}") == 0.0, (gold, task)
        assert reward(env, task, f"{value - step:.4f}") == 0.0, (gold, task)
        yield env, task, value


def test_gc_content_near_misses_and_forms() -> None:
    for env, task, value in numeric_cases("gc_content", 0.002):
        assert reward(env, task, f"{100 * value:.2f}%") == 1.0
        assert reward(env, task, f"{100 * value:.2f}") == 1.0


def test_molecular_weight_near_misses_and_forms() -> None:
    for env, task, answer in cases("molecular_weight"):
        gold = float(answer.split()[0])
        assert reward(env, task, f"{gold * 1.0015:.2f} Da") == 0.0
        assert reward(env, task, f"{gold * 0.9985:.2f}") == 0.0
        assert reward(env, task, f"{gold / 1000:.4f} kDa") == 1.0
        assert reward(env, task, f"{gold:,.1f} g/mol") == 1.0


def test_molecular_weight_by_hand() -> None:
    env = ENVS["molecular_weight"]
    task = env.Task(sequence="ACGT", seq_type="DNA")
    # dAMP 331.2218 + dCMP 307.1971 + dGMP 347.2212 + dTMP 322.2085 - 3 x 18.0153
    assert reward(env, task, "1253.80 Da") == 1.0
    assert reward(env, task, "1271.82 Da") == 0.0  # one water too few removed


def test_isoelectric_point_near_misses() -> None:
    for env, task, value in numeric_cases("isoelectric_point", 0.06):
        assert reward(env, task, f"pI = {value:.2f}") == 1.0


def test_melting_temp_near_misses_and_forms() -> None:
    for env, task, value in numeric_cases("melting_temp", 0.6):
        assert reward(env, task, f"{value:.1f}°C") == 1.0
        assert env.score(task, f"so \\boxed{{{value:.1f}^\\circ C}}").reward == 1.0


def test_melting_temp_by_hand() -> None:
    env = ENVS["melting_temp"]
    assert reward(env, env.Task(sequence="ACGTACGTAC", method="wallace"), "30 °C") == 1.0  # 2x5 + 4x5
    assert reward(env, env.Task(sequence="ACGTACGTAC", method="wallace"), "29.4 °C") == 0.0


def test_restriction_digest_partial_credit_is_f1() -> None:
    for env, task, gold in cases("restriction_digest"):
        values = [int(v) for v in gold.split(",")] if gold != "none" else []
        if len(values) >= 2:
            score = env.score(task, f"<answer>{', '.join(map(str, values[:-1]))}</answer>")
            recall = (len(values) - 1) / len(values)
            assert score.reward == pytest.approx(2 * recall / (1 + recall)) and score.reward < 1
            assert reward(env, task, ", ".join(map(str, values + [values[-1] + 1]))) < 1
        assert reward(env, task, f"[{', '.join(map(str, values))}]" if values else "none") == 1.0


def test_restriction_digest_by_hand_linear_and_circular() -> None:
    env = ENVS["restriction_digest"]
    sequence = "AAAAGAATTCAAAAAAAAAAGGATCCAAAA"  # EcoRI G^AATTC at 5-10, BamHI G^GATCC at 21-26
    task = env.Task(sequence=sequence, enzymes=["EcoRI", "BamHI"], topology="linear", report="cut_positions")
    assert reward(env, task, "6, 22") == 1.0
    assert reward(env, task, "5, 21") < 1.0  # the first base of the site is not the cut
    fragments = task.model_copy(update={"report": "fragment_lengths"})
    assert reward(env, fragments, "5, 9, 16") == 1.0
    circular = fragments.model_copy(update={"topology": "circular"})
    assert reward(env, circular, "16, 14") == 1.0
    across = env.Task(sequence="AATTCAAAAAAAAAAG", enzymes=["EcoRI"], topology="circular", report="cut_positions")
    assert reward(env, across, "1") == 1.0
    assert reward(env, across.model_copy(update={"topology": "linear"}), "none") == 1.0


def test_alignment_score_near_misses() -> None:
    for env, task, gold in cases("alignment_score"):
        assert reward(env, task, str(int(gold) + 1)) == 0.0
        assert reward(env, task, f"{int(gold):,}") == 1.0


def test_alignment_score_by_hand() -> None:
    env = ENVS["alignment_score"]
    scheme = {"match": 1, "mismatch": -1, "open_gap": -2, "extend_gap": -1}
    task = env.Task(seq_a="ACGT", seq_b="ACT", mode="global", scheme=scheme)
    assert reward(env, task, "1") == 1.0  # A C G T / A C - T: 3 - 2
    local = task.model_copy(update={"mode": "local"})
    assert reward(env, local, "2") == 1.0  # AC/AC


def test_mutation_effect_partial_credit() -> None:
    for env, task, gold in cases("mutation_effect"):
        effect, change = [part.strip() for part in gold.split(",")]
        wrong = re.sub(r"\d+", lambda m: str(int(m.group(0)) + 1), change)
        assert reward(env, task, f"{effect}, {wrong}") == 0.5
        other = "missense" if effect != "missense" else "synonymous"
        assert reward(env, task, f"{other}, {change}") == 0.0
        assert reward(env, task, f"The change {change} is {effect.upper()}.") == 1.0


@pytest.mark.parametrize(("answer", "expected"), [
    ("missense, p.K2R", 1.0), ("Missense; p.Lys2Arg", 1.0), ("non-synonymous p.(K2R)", 1.0), ("missense", 0.5),
    ("nonsense, p.K2R", 0.0), ("p.K2R", 0.0), ("missense, p.K3R", 0.5),
])
def test_mutation_effect_answer_forms(answer: str, expected: float) -> None:
    env = ENVS["mutation_effect"]
    task = env.Task(cds="ATGAAAGGGTAA", position=5, alt="G")  # AAA -> AGA: K2R
    assert reward(env, task, answer) == expected


def test_mutation_effect_nonsense_and_synonymous_by_hand() -> None:
    env = ENVS["mutation_effect"]
    assert reward(env, env.Task(cds="ATGAAAGGGTAA", position=4, alt="T"), "nonsense, p.K2*") == 1.0  # TAA
    assert reward(env, env.Task(cds="ATGAAAGGGTAA", position=6, alt="G"), "synonymous, p.K2=") == 1.0  # AAG
    assert reward(env, env.Task(cds="ATGAAAGGGTAA", position=6, alt="G"), "silent, p.Lys2=") == 1.0


def test_genbank_query_near_misses() -> None:
    for env, task, gold in cases("genbank_query"):
        if task.question == "product":
            assert reward(env, task, gold.upper() + "  ") == 1.0
            assert reward(env, task, gold + " subunit X") == 0.0
        else:
            assert reward(env, task, str(int(gold) + 1)) == 0.0


def test_genbank_protein_and_cds_lengths_agree() -> None:
    """Generated CDSs have no internal stop: the protein is a third of the CDS minus the stop codon."""
    env = ENVS["genbank_query"]
    for _, task, gold in cases("genbank_query"):
        if task.question == "protein_length":
            as_cds = task.model_copy(update={"question": "cds_length"})
            assert reward(env, as_cds, str(3 * (int(gold) + 1))) == 1.0


def test_motif_search_near_misses() -> None:
    for env, task, gold in cases("motif_search"):
        values = [int(v) for v in gold.split(",")] if gold != "none" else []
        assert reward(env, task, ", ".join(str(v + 1) for v in values) or "1") < 1.0
        if len(values) >= 2:
            assert 0 < reward(env, task, ", ".join(map(str, values[1:]))) < 1.0


def test_motif_search_by_hand() -> None:
    env = ENVS["motif_search"]
    task = env.Task(sequence="AAGAATTCAGATCCGGTTAT", motif="GAWTYC", strands="top")  # GAATTC at 3
    assert reward(env, task, "3") == 1.0
    both = env.Task(sequence="ACGGTTTTT", motif="AAMC", strands="both")  # revcomp GKTT: GGTT at 3, GTTT at 4
    assert reward(env, both, "3, 4") == 1.0
    assert reward(env, both.model_copy(update={"strands": "top"}), "none") == 1.0
    overlapping = env.Task(sequence="AAAA", motif="AA", strands="both")
    assert reward(env, overlapping, "1, 2, 3") == 1.0


INVALID = [
    ("dna_revcomp", {"sequence": "ACGTX", "operation": "reverse_complement"}, "A, C, G, T only"),
    ("dna_revcomp", {"sequence": "A" * 20_001, "operation": "transcribe"}, "at most 20000 nt"),
    ("dna_translate", {"sequence": "ATGAAATA", "table": 1}, "multiple of 3"),
    ("dna_translate", {"sequence": "ATGAAATAA", "table": 7}, "NCBI translation table id"),
    ("orf_finder", {"sequence": "ACGTACGT", "min_protein_length": 10, "report": "protein"}, "an ORF of at least"),
    ("gc_content", {"sequence": "ACGT", "window": [3, 9]}, "window"),
    ("molecular_weight", {"sequence": "MKB", "seq_type": "protein"}, "20 standard"),
    ("molecular_weight", {"sequence": "MK", "seq_type": "protein", "double_stranded": True}, "double_stranded"),
    ("melting_temp", {"sequence": "ACGT" * 30, "method": "nn"}, "at most 100 nt"),
    ("restriction_digest", {"sequence": "ACGT", "enzymes": ["FakeI"], "topology": "linear",
                            "report": "cut_positions"}, "REBASE"),
    ("alignment_score", {"seq_a": "ACGU", "seq_b": "ACG", "mode": "global", "scheme": {}}, "A, C, G, T"),
    ("mutation_effect", {"cds": "ATGAAAGGGTAA", "position": 2, "alt": "C"}, "start and stop codons"),
    ("mutation_effect", {"cds": "ATGAAAGGGTAA", "position": 4, "alt": "A"}, "differ from the reference"),
    ("genbank_query", {"record": "not a record", "question": "cds_count"}, "GenBank record"),
    ("motif_search", {"sequence": "ACGT", "motif": "AXG", "strands": "top"}, "IUPAC nucleotide codes"),
]


@pytest.mark.parametrize(("name", "payload", "message"), INVALID, ids=[f"{c[0]}-{c[2]}" for c in INVALID])
def test_bad_tasks_are_invalid(name: str, payload: dict, message: str) -> None:
    env = ENVS[name]
    with pytest.raises(InvalidTask, match=re.escape(message)):
        env.score(env.parse_task(payload), "<answer>1</answer>")


def test_fragment_lengths_agree_with_biopython_catalyse() -> None:
    """Our fragment rule (needed for enzyme panels) gives what `catalyse` gives for one enzyme."""
    rng = random.Random(5)
    for _ in range(200):
        length = rng.randint(30, 200)
        sequence = "".join(rng.choice("ACGT") for _ in range(length))
        for _ in range(rng.randint(0, 3)):
            at = rng.randrange(0, length - 6)
            sequence = sequence[:at] + "GAATTC" + sequence[at + 6 :]
        if rng.random() < 0.3:
            sequence = "ATTC" + sequence[4:-2] + "GA"  # a site across the origin
        for linear in (True, False):
            positions = sorted(set(Restriction.EcoRI.search(Seq(sequence), linear=linear)))
            expected = sorted(len(piece) for piece in Restriction.EcoRI.catalyse(Seq(sequence), linear=linear))
            assert fragment_lengths(positions, length, "linear" if linear else "circular") == expected


FORMS = [
    ("dna_revcomp", {"sequence": "AACCGT", "operation": "reverse_complement"},
     ["<answer>ACGGTT</answer>", "\\boxed{acggtt}", "<answer>\n>rc\nACG\nGTT\n</answer>",
      "<answer>5'-ACGGTT-3'</answer>",
      "<answer>`ACGGTT`</answer>", "\\boxed{\\text{ACGGTT}}", "<answer>**ACG GTT**</answer>"]),
    ("dna_revcomp", {"sequence": "AACCGT", "operation": "transcribe"}, ["<answer>AACCGU</answer>", "\\boxed{aaccgu}"]),
    ("dna_translate", {"sequence": "ATGTGAAAATAA", "table": 2},
     ["<answer>MWK</answer>", "<answer>MWK*</answer>", "<answer>Met-Trp-Lys</answer>", "\\boxed{M W K}",
      "<answer>>protein\nMWK</answer>"]),
    ("dna_translate", {"sequence": "ATGTGAAAATAA", "table": 1, "stops": "stops_as_star"},
     ["<answer>M*K*</answer>", "\\boxed{m*k*}"]),
    ("gc_content", {"sequence": "GGCA"},
     ["<answer>0.75</answer>", "<answer>75%</answer>", "<answer>75</answer>", "\\boxed{75\\%}", "<answer>0,75</answer>",
      "<answer>$0.750$</answer>"]),
    ("molecular_weight", {"sequence": "ACGT", "seq_type": "DNA"},
     ["<answer>1253.8 Da</answer>", "<answer>1,253.8 Da</answer>", "<answer>1.2538 kDa</answer>",
      "<answer>1253.8 g/mol</answer>", "\\boxed{1253.8\\,\\text{Da}}", "<answer>1253.8</answer>",
      "<answer>≈ 1253.8 Da</answer>", "<answer>1.2538e3 Da</answer>"]),
    ("melting_temp", {"sequence": "ACGTACGTAC", "method": "wallace"},
     ["<answer>30 °C</answer>", "<answer>30°C</answer>", "<answer>30 C</answer>", "<answer>30.0 ℃</answer>",
      "\\boxed{30^\\circ C}", "\\boxed{30^{\\circ}\\text{C}}", "<answer>30</answer>", "<answer>30 degrees C</answer>"]),
    ("restriction_digest", {"sequence": "AAAAGAATTCAAAAAAAAAAGGATCCAAAA", "enzymes": ["EcoRI", "BamHI"],
                            "topology": "linear", "report": "cut_positions"},
     ["<answer>6, 22</answer>", "<answer>[6, 22]</answer>", "<answer>6 22</answer>", "<answer>6;22</answer>",
      "\\boxed{6, 22}", "<answer>22, 6</answer>"]),
    ("alignment_score", {"seq_a": "ACGT", "seq_b": "ACT", "mode": "global", "scheme": {}},
     ["<answer>1</answer>", "\\boxed{1}", "<answer>1.</answer>"]),
    ("orf_finder", {"sequence": "CCATGAAACCCGGGTAACC", "min_protein_length": 3, "report": "coordinates"},
     ["<answer>3, 17, +</answer>", "<answer>3..17 (+)</answer>", "<answer>start=3, end=17, strand=+</answer>",
      "<answer>3-17, forward strand</answer>", "<answer>17, 3, +1</answer>"]),
]


@pytest.mark.parametrize(("name", "payload", "completions"), FORMS, ids=[f"{f[0]}-{i}" for i, f in enumerate(FORMS)])
def test_accepted_answer_forms(name: str, payload: dict, completions: list[str]) -> None:
    env = ENVS[name]
    task = env.parse_task(payload)
    for completion in completions:
        result = env.score(task, completion)
        assert (result.status, result.reward) == (Status.OK, 1.0), (completion, result)


def test_gold_is_computed_once_per_task_and_invalid_tasks_are_never_cached() -> None:
    calls: list[str] = []

    @per_task
    def gold(task):
        calls.append(task.sequence)
        if "N" in task.sequence:
            raise InvalidTask("bad")
        return len(task.sequence)

    task_type = ENVS["dna_revcomp"].Task
    for _ in range(3):
        assert gold(task_type(sequence="ACGT", operation="transcribe")) == 4
    assert gold(task_type(sequence="ACGT", operation="reverse_complement")) == 4  # another task: computed again
    for _ in range(2):
        with pytest.raises(InvalidTask):
            gold(task_type(sequence="ANGT", operation="transcribe"))
    assert calls == ["ACGT", "ACGT", "ANGT", "ANGT"]


GENERATED_FORMS: dict[str, list] = {
    "isoelectric_point": [lambda a: a, lambda a: f"pI = {a}", lambda a: f"pI: {a}", lambda a: f"{float(a):.3f}",
                          lambda a: f"$ {a} $"],
    "genbank_query": [lambda a: a, lambda a: a.upper() if not a.isdigit() else f"{int(a):,}",
                      lambda a: f'"{a}"' if not a.isdigit() else a,
                      lambda a: f"**{a}**", lambda a: f"{a}."],
    "motif_search": [lambda a: a, lambda a: f"[{a}]", lambda a: a.replace(", ", " "), lambda a: a.replace(", ", ";"),
                     lambda a: a.replace(", ", ",\n")],
    "orf_finder": [lambda a: a, lambda a: a.lower() if "," not in a else a.replace(", ", " ; ").replace(";", ","),
                   lambda a: f">orf\n{a}" if "," not in a else a.replace(", +", " (+)").replace(", -", " (-)")],
    "alignment_score": [lambda a: a, lambda a: f"{int(a):,}", lambda a: f"{a}."],
    "mutation_effect": [lambda a: a, lambda a: a.replace(", ", " "), lambda a: a.upper().replace("P.", "p."),
                        lambda a: f"The substitution is {a.split(', ')[0]}: {a.split(', ')[1]}."],
}


@pytest.mark.parametrize("name", sorted(GENERATED_FORMS))
def test_accepted_answer_forms_on_generated_tasks(name: str) -> None:
    for env, task, gold in list(cases(name))[::7]:
        for form in GENERATED_FORMS[name]:
            written = form(gold)
            result = env.score(task, f"<answer>{written}</answer>")
            assert (result.status, result.reward) == (Status.OK, 1.0), (written, result)
            assert env.score(task, f"\\boxed{{{written}}}").reward == 1.0 or "{" in written, written
