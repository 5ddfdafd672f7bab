"""Codon weights for `codon_design`'s generated tasks: relative adaptiveness (w, 0-1) per codon.

`ECOLI_SHARP_LI` holds the E. coli index of Sharp & Li (1987) as Biopython shipped it until 1.79
(`Bio.SeqUtils.CodonUsageIndices.SharpEcoliIndex`). Tasks carry their weights, and prompts state them, so a score
never depends on this table being anyone's reference: it only makes generated tasks look like real ones.
"""

from __future__ import annotations

ECOLI_SHARP_LI: dict[str, float] = {
    "GCA": 0.586, "GCC": 0.122, "GCG": 0.424, "GCT": 1.0, "AGA": 0.004, "AGG": 0.002, "CGA": 0.004,
    "CGC": 0.356, "CGG": 0.004, "CGT": 1.0, "AAC": 1.0, "AAT": 0.051, "GAC": 1.0, "GAT": 0.434, "TGC": 1.0,
    "TGT": 0.5, "CAA": 0.124, "CAG": 1.0, "GAA": 1.0, "GAG": 0.259, "GGA": 0.01, "GGC": 0.724, "GGG": 0.019,
    "GGT": 1.0, "CAC": 1.0, "CAT": 0.291, "ATA": 0.003, "ATC": 1.0, "ATT": 0.185, "CTA": 0.007, "CTC": 0.037,
    "CTG": 1.0, "CTT": 0.042, "TTA": 0.02, "TTG": 0.02, "AAA": 1.0, "AAG": 0.253, "ATG": 1.0, "TTC": 1.0,
    "TTT": 0.296, "CCA": 0.135, "CCC": 0.012, "CCG": 1.0, "CCT": 0.07, "AGC": 0.41, "AGT": 0.085, "TCA": 0.077,
    "TCC": 0.744, "TCG": 0.017, "TCT": 1.0, "ACA": 0.076, "ACC": 1.0, "ACG": 0.099, "ACT": 0.965, "TGG": 1.0,
    "TAC": 1.0, "TAT": 0.239, "GTA": 0.495, "GTC": 0.066, "GTG": 0.221, "GTT": 1.0,
}
