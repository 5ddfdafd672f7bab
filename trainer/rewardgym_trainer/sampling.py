"""Sampling G completions per prompt from a `Policy`, keeping what the loss needs (ids, masks, old log-probs)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from rewardgym_trainer.models import Policy, sequence_logprobs


@dataclass
class Rollout:
    """N = B * G sampled sequences; completion i belongs to prompt i // G."""

    input_ids: Tensor
    """[N, P + T] left-padded prompt followed by the completion (padded after its end token)."""
    attention_mask: Tensor
    """[N, P + T] 0 on the prompt's left padding."""
    prompt_len: int
    completion_mask: Tensor
    """[N, T] 1 on the completion's tokens, its end token included."""
    old_logp: Tensor
    """[N, T] log-probabilities of the completion tokens under the policy that sampled them."""
    texts: list[str]
    group_size: int

    @property
    def tokens(self) -> int:
        return int(self.completion_mask.sum())


def left_pad(sequences: list[list[int]], pad_id: int, device: torch.device) -> tuple[Tensor, Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        if sequence:
            ids[row, width - len(sequence):] = torch.tensor(sequence)
            mask[row, width - len(sequence):] = 1
    return ids.to(device), mask.to(device)


@torch.no_grad()
def sample(policy: Policy, prompts: list[str], group_size: int, max_new_tokens: int, temperature: float,
           device: torch.device, generator: torch.Generator | None = None) -> Rollout:
    """Sample `group_size` completions of each prompt, stopping each at the end token or `max_new_tokens`."""
    encoded = [policy.encode(prompt) for prompt in prompts for _ in range(group_size)]
    ids, mask = left_pad(encoded, policy.pad_id, device)
    prompt_len = ids.shape[1]
    finished = torch.zeros(ids.shape[0], dtype=torch.bool, device=device)
    cache = None
    for _ in range(max_new_tokens):
        logits, cache = policy.next_token_logits(ids, mask, cache)
        logits = logits.float() / temperature
        token = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator).squeeze(1)
        token = torch.where(finished, torch.full_like(token, policy.pad_id), token)
        ids = torch.cat([ids, token.unsqueeze(1)], dim=1)
        mask = torch.cat([mask, torch.ones_like(token).unsqueeze(1)], dim=1)
        finished |= token == policy.eos_id
        if bool(finished.all()):
            break
    completion = ids[:, prompt_len:]
    ended_before = torch.cumsum((completion == policy.eos_id).long(), dim=1) - (completion == policy.eos_id).long()
    completion_mask = (ended_before == 0).long()
    old_logp = sequence_logprobs(policy, ids, mask, prompt_len, temperature) * completion_mask
    texts = [policy.decode([t for t, m in zip(row.tolist(), keep.tolist()) if m and t != policy.eos_id])
             for row, keep in zip(completion, completion_mask)]
    return Rollout(ids, mask, prompt_len, completion_mask, old_logp, texts, group_size)
