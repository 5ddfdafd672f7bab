"""The biology family: verifiers for molecular-biology answers computed with Biopython, hosted by one worker."""

from rewardgym.registry import Family

from rewardgym_bio.alignment import AlignmentEnv
from rewardgym_bio.alignment_score import AlignmentScoreEnv
from rewardgym_bio.codon_design import CodonDesignEnv
from rewardgym_bio.gc_content import GcContentEnv
from rewardgym_bio.genbank import GenbankQueryEnv
from rewardgym_bio.isoelectric import IsoelectricPointEnv
from rewardgym_bio.melting_temp import MeltingTempEnv
from rewardgym_bio.molecular_weight import MolecularWeightEnv
from rewardgym_bio.motif import MotifSearchEnv
from rewardgym_bio.mutation import MutationEffectEnv
from rewardgym_bio.orf import OrfEnv
from rewardgym_bio.phylogeny import PhylogenyEnv
from rewardgym_bio.primer_design import PrimerDesignEnv
from rewardgym_bio.restriction import RestrictionDigestEnv
from rewardgym_bio.revcomp import RevcompEnv
from rewardgym_bio.translate import TranslateEnv

FAMILY = Family(
    name="bio",
    environments=(
        RevcompEnv,
        TranslateEnv,
        OrfEnv,
        GcContentEnv,
        MolecularWeightEnv,
        IsoelectricPointEnv,
        MeltingTempEnv,
        RestrictionDigestEnv,
        AlignmentScoreEnv,
        MutationEffectEnv,
        GenbankQueryEnv,
        MotifSearchEnv,
        AlignmentEnv,
        CodonDesignEnv,
        PrimerDesignEnv,
        PhylogenyEnv,
    ),
)

__all__ = ["FAMILY"]
