"""Advantages and policy losses of GRPO and two variants, as pure functions of tensors.

Shapes: B prompts, G completions per prompt, N = B * G sequences, T completion tokens (padded).

| variant  | advantage of completion i in its group           | groups used         | loss reduction                 |
|----------|--------------------------------------------------|---------------------|--------------------------------|
| grpo     | (r_i - mean(r)) / (std(r) + eps)                 | all                 | mean over a sequence's tokens, |
|          |                                                  |                     | then over sequences            |
| dr_grpo  | r_i - mean(r)  (Dr. GRPO: no std, no length bias)| all                 | sum over tokens / a constant   |
|          |                                                  |                     | (max completion length), mean  |
|          |                                                  |                     | over sequences                 |
| dapo     | (r_i - mean(r)) / (std(r) + eps)                 | only groups whose   | mean over all tokens of the    |
|          |                                                  | rewards differ      | batch (token-level)            |

A null reward (NaN here; None from the client) is masked out: it takes no part in its group's mean and std and its
sequence adds nothing to the loss. It is never counted as 0. The std is the population std of the valid rewards.
DAPO's clip-higher is `clip_high > clip_low` in `LossConfig` (0.28 vs 0.2 by its paper's defaults).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

EPS = 1e-4
"""Added to the group std (as in the GRPO paper's implementations) so that a near-flat group does not explode."""


class Variant(str, enum.Enum):
    GRPO = "grpo"
    DR_GRPO = "dr_grpo"
    DAPO = "dapo"


@dataclass(frozen=True)
class LossConfig:
    clip_low: float = 0.2
    """The ratio is clipped to [1 - clip_low, 1 + clip_high]."""
    clip_high: float = 0.2
    kl_coef: float = 0.0
    """Weight of the k3 estimate of KL(policy || reference) per token; 0 disables the reference model."""
    max_completion_tokens: int = 64
    """Dr. GRPO's constant normaliser (the generation budget), instead of each sequence's own length."""


@dataclass(frozen=True)
class GroupStats:
    advantages: Tensor
    """[B, G], 0 where not used."""
    used: Tensor
    """[B, G] bool: the completion enters the loss (a reward, and a group the variant keeps)."""
    zero_variance: Tensor
    """[B] bool: the group's valid rewards are all equal (its advantages are 0)."""


def group_advantages(rewards: Tensor, variant: Variant) -> GroupStats:
    """Advantages of `rewards` [B, G] (NaN = no reward) for `variant`."""
    if rewards.dim() != 2:
        raise ValueError(f"Expected rewards of shape [B, G], got {tuple(rewards.shape)}")
    valid = ~torch.isnan(rewards)
    count = valid.sum(dim=1, keepdim=True)
    filled = torch.where(valid, rewards, torch.zeros_like(rewards))
    mean = filled.sum(dim=1, keepdim=True) / count.clamp(min=1)
    centered = torch.where(valid, rewards - mean, torch.zeros_like(rewards))
    std = (centered.pow(2).sum(dim=1, keepdim=True) / count.clamp(min=1)).sqrt()
    zero_variance = (std.squeeze(1) < 1e-8) & (count.squeeze(1) > 0)
    advantages, used = _ADVANTAGES[variant](centered, std, valid, zero_variance)
    return GroupStats(advantages=torch.where(used, advantages, torch.zeros_like(advantages)), used=used,
                      zero_variance=zero_variance)


def _normalized(centered: Tensor, std: Tensor, valid: Tensor, flat: Tensor) -> tuple[Tensor, Tensor]:
    return centered / (std + EPS), valid


def _centered(centered: Tensor, std: Tensor, valid: Tensor, flat: Tensor) -> tuple[Tensor, Tensor]:
    return centered, valid


def _normalized_dropping_flat(centered: Tensor, std: Tensor, valid: Tensor, flat: Tensor) -> tuple[Tensor, Tensor]:
    return centered / (std + EPS), valid & ~flat.unsqueeze(1)


_ADVANTAGES: dict[Variant, Callable[[Tensor, Tensor, Tensor, Tensor], tuple[Tensor, Tensor]]] = {
    Variant.GRPO: _normalized,
    Variant.DR_GRPO: _centered,
    Variant.DAPO: _normalized_dropping_flat,
}


def k3_kl(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """Per-token k3 estimator of KL(policy || reference): exp(ref - logp) - (ref - logp) - 1 (always >= 0)."""
    delta = ref_logp - logp
    return torch.exp(delta) - delta - 1.0


def policy_loss(logp: Tensor, old_logp: Tensor, advantages: Tensor, token_mask: Tensor, variant: Variant,
                config: LossConfig, ref_logp: Tensor | None = None) -> tuple[Tensor, dict[str, float]]:
    """The clipped surrogate loss (to minimise) over N sequences of T tokens.

    logp, old_logp, ref_logp, token_mask: [N, T]; advantages: [N] (0 and masked where a sequence is not used:
    pass token_mask already multiplied by the sequence's `used` flag).
    """
    mask = token_mask.to(logp.dtype)
    ratio = torch.exp(logp - old_logp)
    adv = advantages.unsqueeze(1)
    unclipped = ratio * adv
    clipped = ratio.clamp(1.0 - config.clip_low, 1.0 + config.clip_high) * adv
    per_token = -torch.minimum(unclipped, clipped)
    kl = k3_kl(logp, ref_logp) if ref_logp is not None else torch.zeros_like(logp)
    if ref_logp is not None and config.kl_coef > 0:
        per_token = per_token + config.kl_coef * kl
    loss = _REDUCTIONS[variant](per_token, mask, config)
    tokens = mask.sum().clamp(min=1)
    stats = {
        "loss/policy": float(loss.detach()),
        "loss/clip_frac": float(((clipped < unclipped).to(mask.dtype) * mask).sum() / tokens),
        "kl/mean": float((kl.detach() * mask).sum() / tokens),
    }
    return loss, stats


def _sequence_mean(per_token: Tensor, mask: Tensor, config: LossConfig) -> Tensor:
    lengths = mask.sum(dim=1)
    used = lengths > 0
    per_sequence = (per_token * mask).sum(dim=1) / lengths.clamp(min=1)
    return per_sequence[used].sum() / used.sum().clamp(min=1)


def _constant_normaliser(per_token: Tensor, mask: Tensor, config: LossConfig) -> Tensor:
    used = mask.sum(dim=1) > 0
    per_sequence = (per_token * mask).sum(dim=1) / config.max_completion_tokens
    return per_sequence[used].sum() / used.sum().clamp(min=1)


def _token_mean(per_token: Tensor, mask: Tensor, config: LossConfig) -> Tensor:
    return (per_token * mask).sum() / mask.sum().clamp(min=1)


_REDUCTIONS: dict[Variant, Callable[[Tensor, Tensor, LossConfig], Tensor]] = {
    Variant.GRPO: _sequence_mean,
    Variant.DR_GRPO: _constant_normaliser,
    Variant.DAPO: _token_mean,
}


def rewards_tensor(rewards: list[list[float | None]]) -> Tensor:
    """[B, G] float tensor of a batch's rewards, NaN where the server gave none."""
    return torch.tensor([[float("nan") if r is None else r for r in group] for group in rewards],
                        dtype=torch.float32)
