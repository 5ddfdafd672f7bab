"""An optional supervised warm-start: next-token cross-entropy on `{"prompt", "completion"}` pairs.

A randomly initialised model never emits a parsable answer, so its rewards would all be 0 (no GRPO signal). A few
steps of supervision on the answer *format* give RL something to improve; the trainer reports them separately.
"""

from __future__ import annotations

import random
from typing import Any

import torch
from torch.nn import functional as F

from rewardgym_trainer.models import Policy
from rewardgym_trainer.sampling import left_pad


def warm_start(policy: Policy, examples: list[dict[str, Any]], steps: int, batch_size: int, learning_rate: float,
               device: torch.device, seed: int) -> list[float]:
    """Train on `examples` for `steps` batches; return the loss of each step."""
    optimizer = torch.optim.AdamW(policy.model.parameters(), lr=learning_rate)
    rng = random.Random(seed)
    losses = []
    policy.model.train()
    for _ in range(steps):
        batch = rng.sample(examples, min(batch_size, len(examples)))
        prompts = [policy.encode(e["prompt"]) for e in batch]
        sequences = [p + policy.encode(e["completion"]) + [policy.eos_id] for p, e in zip(prompts, batch)]
        ids, mask = left_pad(sequences, policy.pad_id, device)
        targets = ids[:, 1:].clone()
        width = ids.shape[1]
        for row, (prompt, sequence) in enumerate(zip(prompts, sequences)):
            targets[row, : width - len(sequence) + len(prompt) - 1] = -100  # padding and prompt: not predicted
        logits = policy.logits(ids, mask)[:, :-1].float()
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return losses
