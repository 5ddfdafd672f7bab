"""rewardgym_trainer: a readable GRPO trainer (grpo, dr_grpo, dapo) whose rewards come from a rewardgym server."""

from rewardgym_trainer.algorithms import LossConfig, Variant, group_advantages, policy_loss
from rewardgym_trainer.grpo import Args, train

__all__ = ["Args", "LossConfig", "Variant", "group_advantages", "policy_loss", "train"]
