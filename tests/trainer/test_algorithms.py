"""Advantages and losses of grpo / dr_grpo / dapo against values computed by hand (in the comments)."""

from __future__ import annotations

import math

import pytest
import torch

from rewardgym_trainer.algorithms import (EPS, LossConfig, Variant, group_advantages, k3_kl, policy_loss,
                                          rewards_tensor)

# group 0: [1, 0, 0, 1]      mean 1/2, population std 1/2
# group 1: [1, None, 0, 0]   the None is masked: mean 1/3, std sqrt(2/9) = 0.4714
# group 2: [1, 1, 1, 1]      all equal: std 0
REWARDS = rewards_tensor([[1.0, 0.0, 0.0, 1.0], [1.0, None, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
STD1 = math.sqrt(2 / 9)


def assert_close(actual: torch.Tensor, expected: list[list[float]]) -> None:
    torch.testing.assert_close(actual, torch.tensor(expected), rtol=1e-5, atol=1e-7)


def test_grpo_normalises_by_the_group_std_and_masks_none():
    stats = group_advantages(REWARDS, Variant.GRPO)
    half = 0.5 / (0.5 + EPS)
    expected = [[half, -half, -half, half],
                [(2 / 3) / (STD1 + EPS), 0.0, -(1 / 3) / (STD1 + EPS), -(1 / 3) / (STD1 + EPS)],
                [0.0, 0.0, 0.0, 0.0]]
    assert_close(stats.advantages, expected)
    assert stats.used.tolist() == [[True] * 4, [True, False, True, True], [True] * 4]
    assert stats.zero_variance.tolist() == [False, False, True]


def test_a_none_is_not_a_zero():
    as_zero = group_advantages(rewards_tensor([[1.0, 0.0, 0.0, 0.0]]), Variant.GRPO).advantages
    masked = group_advantages(rewards_tensor([[1.0, None, 0.0, 0.0]]), Variant.GRPO).advantages
    assert masked[0, 0] != pytest.approx(float(as_zero[0, 0]))  # mean 1/3 vs 1/4: the baseline differs
    assert masked[0, 1] == 0.0


def test_dr_grpo_only_centres():
    stats = group_advantages(REWARDS, Variant.DR_GRPO)
    expected = [[0.5, -0.5, -0.5, 0.5], [2 / 3, 0.0, -1 / 3, -1 / 3], [0.0, 0.0, 0.0, 0.0]]
    assert_close(stats.advantages, expected)
    assert stats.used[2].all()


def test_dapo_drops_groups_whose_rewards_are_all_equal():
    stats = group_advantages(REWARDS, Variant.DAPO)
    assert stats.used.tolist() == [[True] * 4, [True, False, True, True], [False] * 4]
    half = 0.5 / (0.5 + EPS)
    assert_close(stats.advantages[:1], [[half, -half, -half, half]])
    assert stats.advantages[2].tolist() == [0.0] * 4
    all_null = group_advantages(rewards_tensor([[None, None]]), Variant.DAPO)
    assert not all_null.used.any() and all_null.advantages.tolist() == [[0.0, 0.0]]


# Two sequences at ratio 1 (logp == old_logp): the per-token loss is -advantage.
# A = [1, -0.5]; sequence 0 has 2 tokens, sequence 1 has 1 token.
#   grpo:    mean over each sequence's tokens (-1, +0.5), then over sequences          -> -0.25
#   dr_grpo: sum over tokens / 4 (max tokens) (-2/4, +0.5/4), mean over sequences     -> -0.1875
#   dapo:    mean over all 3 tokens (-1 - 1 + 0.5) / 3                                 -> -0.5
@pytest.mark.parametrize("variant, expected", [(Variant.GRPO, -0.25), (Variant.DR_GRPO, -0.1875),
                                               (Variant.DAPO, -0.5)])
def test_loss_reductions(variant, expected):
    logp = torch.log(torch.full((2, 3), 0.5))
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    loss, _ = policy_loss(logp, logp.clone(), torch.tensor([1.0, -0.5]), mask, variant,
                          LossConfig(max_completion_tokens=4))
    assert float(loss) == pytest.approx(expected)


# ratio 1.5: A = +1 is clipped to 1.2 (1.28 with clip-higher), A = -1 keeps -1.5 (min picks the worse):
#   per-token losses -1.2 and +1.5 -> mean 0.15; dapo: -1.28 and +1.5 -> 0.11
# ratio 0.5: A = +1 keeps 0.5 (-0.5), A = -1 is clipped to -0.8 (+0.8) -> mean 0.15
@pytest.mark.parametrize("ratio, variant, config, expected", [
    (1.5, Variant.GRPO, LossConfig(), 0.15),
    (1.5, Variant.DAPO, LossConfig(clip_high=0.28), 0.11),
    (0.5, Variant.GRPO, LossConfig(), 0.15),
])
def test_clipped_surrogate(ratio, variant, config, expected):
    old = torch.log(torch.full((2, 2), 0.4))
    logp = old + math.log(ratio)
    loss, stats = policy_loss(logp, old, torch.tensor([1.0, -1.0]), torch.ones(2, 2), variant, config)
    assert float(loss) == pytest.approx(expected)
    assert stats["loss/clip_frac"] == pytest.approx(0.5)


def test_k3_kl_and_its_weight_in_the_loss():
    logp, ref = torch.log(torch.tensor([[0.5]])), torch.log(torch.tensor([[0.25]]))
    expected_kl = 0.5 + math.log(2) - 1  # exp(d) - d - 1 with d = log(0.25) - log(0.5) = -log 2
    assert float(k3_kl(logp, ref)) == pytest.approx(expected_kl)
    assert float(k3_kl(logp, logp)) == 0.0
    loss, stats = policy_loss(logp, logp.clone(), torch.tensor([0.0]), torch.ones(1, 1), Variant.GRPO,
                              LossConfig(kl_coef=0.1), ref_logp=ref)
    assert float(loss) == pytest.approx(0.1 * expected_kl) and stats["kl/mean"] == pytest.approx(expected_kl)


def test_masked_sequences_get_no_gradient():
    logp = torch.zeros(2, 2, requires_grad=True)
    mask = torch.tensor([[1, 1], [0, 0]])  # sequence 1: a None reward or a dropped group
    loss, _ = policy_loss(logp, logp.detach(), torch.tensor([1.0, 5.0]), mask, Variant.DAPO, LossConfig())
    loss.backward()
    assert logp.grad[1].tolist() == [0.0, 0.0] and logp.grad[0].tolist() == [-0.5, -0.5]


def test_rewards_must_be_grouped():
    with pytest.raises(ValueError, match=r"Expected rewards of shape \[B, G\]"):
        group_advantages(torch.zeros(4), Variant.GRPO)
