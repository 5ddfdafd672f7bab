"""`genbank_query`: questions over a GenBank record in the prompt (CDS count, a gene's CDS length, protein length or
product), answered from the record as Biopython parses it at scoring time."""

from __future__ import annotations

import random
from io import StringIO
from typing import Literal

from Bio import SeqIO
from Bio.Seq import Seq
from Bio.SeqFeature import CompoundLocation, SeqFeature, SimpleLocation
from Bio.SeqRecord import SeqRecord
from pydantic import Field

from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel

from rewardgym_bio.answers import normalise_words, parse_int
from rewardgym_bio.common import exact_answer, per_task, random_dna, require_table

MAX_RECORD_CHARS = 200_000
GENES_BY_DIFFICULTY: dict[str, tuple[int, int]] = {"easy": (2, 3), "medium": (4, 6), "hard": (7, 10)}
PRODUCTS = ("DNA polymerase III subunit beta", "ABC transporter ATP-binding protein", "50S ribosomal protein L2",
            "elongation factor Tu", "chaperone protein DnaK", "transcriptional regulator", "histidine kinase",
            "outer membrane porin", "thioredoxin", "glutamine synthetase", "hypothetical protein",
            "ferredoxin", "cold shock protein", "flagellar motor switch protein", "acyl carrier protein")

Question = Literal["cds_count", "cds_length", "protein_length", "product"]


class GenbankTask(TaskModel):
    record: str = Field(description="One GenBank flat-file record.")
    question: Question
    gene: str | None = Field(default=None, description="The /gene of the CDS asked about (all but cds_count).")


class GenbankOptions(GenerateOptions):
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    """easy: 2-3 genes; medium: 4-6 with tRNAs; hard: 7-10 with tRNAs and spliced (join) CDSs."""


@per_task
def gold_answer(task: GenbankTask) -> int | str:
    if len(task.record) > MAX_RECORD_CHARS:
        raise InvalidTask(f"Expected a record of at most {MAX_RECORD_CHARS} characters, got {len(task.record)}")
    try:
        record = SeqIO.read(StringIO(task.record), "genbank")
    except ValueError as exc:
        raise InvalidTask(f"Expected one GenBank record Biopython can read, got: {exc}") from exc
    cds = [feature for feature in record.features if feature.type == "CDS"]
    if task.question == "cds_count":
        return len(cds)
    matches = [feature for feature in cds if task.gene in feature.qualifiers.get("gene", [])]
    if len(matches) != 1:
        raise InvalidTask(f"Expected exactly one CDS with /gene=\"{task.gene}\", got {len(matches)}")
    feature = matches[0]
    if task.question == "cds_length":
        return len(feature)
    if task.question == "product":
        return feature.qualifiers.get("product", [""])[0]
    table = int(feature.qualifiers.get("transl_table", ["1"])[0])
    require_table(table)
    return len(feature.extract(record.seq).translate(table=table, to_stop=True))


def _cds_feature(rng: random.Random, start: int, codons: int, spliced: bool, gene: str, product: str,
                 strand: int) -> tuple[SeqFeature, str]:
    """A CDS feature at `start` and the top-strand bases it covers (with a 12 nt intron when spliced)."""
    coding = "ATG" + "".join(rng.choice(("GCT", "AAA", "GAT", "CTG", "TTC", "CGT", "GGC", "ACC", "CAG", "TCT"))
                             for _ in range(codons - 2)) + "TAA"
    split = 3 * rng.randint(1, codons - 1) + rng.randint(0, 2) if spliced else len(coding)
    intron = "GTAAGTCCCCAG" if spliced else ""
    first, second = coding[:split], coding[split:]
    top = first + intron + second
    if strand == -1:
        top = str(Seq(top).reverse_complement())
    if spliced:
        parts = [SimpleLocation(start, start + len(first), strand=1),
                 SimpleLocation(start + len(first) + len(intron), start + len(top), strand=1)]
        if strand == -1:
            parts = [SimpleLocation(start + len(second) + len(intron), start + len(top), strand=-1),
                     SimpleLocation(start, start + len(second), strand=-1)]
        location = CompoundLocation(parts)
    else:
        location = SimpleLocation(start, start + len(top), strand=strand)
    qualifiers = {"gene": [gene], "product": [product], "transl_table": [11]}
    return SeqFeature(location, type="CDS", qualifiers=qualifiers), top


def build_record(rng: random.Random, difficulty: str) -> tuple[str, list[str]]:
    """A synthetic GenBank record: genes with CDSs (some spliced when hard) and tRNAs, in random spacers."""
    genes = rng.sample([f"{a}{b}{c}{d}" for a in "abc" for b in "dfg" for c in "hkr" for d in "ABCDE"],
                       rng.randint(*GENES_BY_DIFFICULTY[difficulty]))
    pieces, features, at = [], [], 0
    for gene in genes:
        spacer = random_dna(rng, rng.randint(20, 80))
        pieces.append(spacer)
        at += len(spacer)
        if difficulty != "easy" and rng.random() < 0.3:
            trna = random_dna(rng, 76)
            features.append(SeqFeature(SimpleLocation(at, at + 76, strand=rng.choice([1, -1])), type="tRNA",
                                       qualifiers={"product": ["tRNA-Gly"]}))
            pieces.append(trna + random_dna(rng, 15))
            at += 91
        feature, top = _cds_feature(rng, at, rng.randint(10, 60), difficulty == "hard" and rng.random() < 0.4,
                                    gene, rng.choice(PRODUCTS), rng.choice([1, -1]))
        features.extend([SeqFeature(feature.location, type="gene", qualifiers={"gene": [gene]}), feature])
        pieces.append(top)
        at += len(top)
    pieces.append(random_dna(rng, 30))
    record = SeqRecord(Seq("".join(pieces)), id="RG000001.1", name="RG000001",
                       description="Synthetic construct, rewardgym generated record",
                       annotations={"molecule_type": "DNA", "topology": "linear", "data_file_division": "SYN",
                                    "date": "01-JAN-2025"}, features=features)
    out = StringIO()
    SeqIO.write(record, out, "genbank")
    return out.getvalue(), genes


class GenbankQueryEnv(Environment[GenbankTask]):
    name = "genbank_query"
    description = (
        "Questions over a GenBank record given in the prompt: the number of CDS features, or for the CDS whose "
        "/gene is named: its length in nt (all parts of a join, stop codon included), its protein length in "
        "residues (translated with its /transl_table, stop not counted), or its /product. Answer in "
        "<answer></answer> or \\boxed{}: an integer, or the product text (compared case- and "
        "whitespace-insensitively). Reward 1.0 if equal to what Biopython reads from the record, else 0.0; "
        "nothing readable -> no_answer."
    )
    Task = GenbankTask
    Options = GenbankOptions

    def score(self, task: GenbankTask, completion: str) -> Score:
        gold = gold_answer(task)
        if isinstance(gold, str):
            return exact_answer(completion, lambda text: normalise_words(text) or None, "the product name",
                                normalise_words(gold))
        return exact_answer(completion, parse_int, "one integer", gold)

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[GenbankTask]:
        options = GenbankOptions.model_validate(options.model_dump())
        record, genes = build_record(rng, options.difficulty)
        question: Question = rng.choice(["cds_count", "cds_length", "protein_length", "product"])
        gene = None if question == "cds_count" else rng.choice(genes)
        task = GenbankTask(record=record, question=question, gene=gene)
        ask = {
            "cds_count": "How many CDS features does the record have? Answer with an integer.",
            "cds_length": f"What is the length in nucleotides of the CDS of gene {gene} (all parts of a join, "
                          "stop codon included)? Answer with an integer.",
            "protein_length": f"How many amino acids long is the protein encoded by the CDS of gene {gene}, "
                              "translated with its /transl_table (the stop codon not counted)? Answer with an integer.",
            "product": f"What is the /product of the CDS of gene {gene}? Answer with the product text.",
        }[question]
        prompt = f"Here is a GenBank record:\n{record}\n{ask} Put the answer in <answer></answer> tags."
        return Generated(prompt=prompt, task=task, solution=f"<answer>{gold_answer(task)}</answer>")
