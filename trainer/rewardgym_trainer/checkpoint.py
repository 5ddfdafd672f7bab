"""Save and restore a run: weights, optimizer, step, the prompt stream's position and the random generators."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch

from rewardgym_trainer.models import Policy

CHECKPOINT = "checkpoint.pt"


def save(folder: Path, policy: Policy, optimizer: torch.optim.Optimizer, step: int, extra: dict[str, Any]) -> Path:
    path = folder / CHECKPOINT
    tmp = path.with_suffix(".tmp")
    torch.save({"step": step, "policy_spec": policy.spec, "model": policy.model.state_dict(),
                "optimizer": optimizer.state_dict(), "torch_rng": torch.get_rng_state(),
                "python_rng": random.getstate(), **extra}, tmp)
    tmp.replace(path)  # a crash while saving never leaves a half-written checkpoint
    return path


def load(folder: Path) -> dict[str, Any] | None:
    path = folder / CHECKPOINT
    if not path.exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=False)


def restore(state: dict[str, Any], policy: Policy, optimizer: torch.optim.Optimizer) -> int:
    """Load `state` into `policy` and `optimizer`; return the last completed step."""
    if state["policy_spec"] != policy.spec:
        raise ValueError(f"Expected a checkpoint of {policy.spec}, got one of {state['policy_spec']}")
    policy.model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    random.setstate(state["python_rng"])
    return int(state["step"])
