"""The puzzles family: every dataset of the pinned reasoning-gym release, as environments named `rg_<dataset>`."""

from rewardgym.registry import Family

from rewardgym_puzzles.environment import make_environments

FAMILY = Family(name="puzzles", environments=make_environments())

__all__ = ["FAMILY"]
