"""The TRL adapter inside TRL's own GRPOTrainer (CPU, a tiny random Llama built here, no downloads), and its
calling convention (plain and conversational completions, task column forms, async)."""

from __future__ import annotations

import json

import pytest
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

from rewardgym_client.trl import AsyncTRLReward, TRLReward, build_groups
from tests.support.tiny_hf import char_tokenizer, tiny_llama

class Recording(TRLReward):
    """The adapter, remembering what TRL passed and what it returned."""

    calls: list[tuple[list, list]] = []

    def __call__(self, prompts, completions, **kwargs):
        rewards = super().__call__(prompts, completions, **kwargs)
        self.calls.append((list(kwargs["task"]), rewards))
        return rewards


def test_grpo_trainer_runs_with_the_adapter_as_its_reward(toy_server, tmp_path):
    tokenizer = char_tokenizer()
    model = tiny_llama(len(tokenizer))
    # two prompts, one prompt per step: the two steps see both, the invalid task's included
    dataset = Dataset.from_list([{"prompt": "Repeat 11", "task": json.dumps({"answer": "11"})},
                                 {"prompt": "Repeat 4", "task": json.dumps({"answer": "!invalid"})}])
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4,
                      max_completion_length=4, max_steps=2, use_cpu=True, report_to="none", logging_steps=1,
                      save_strategy="no", bf16=False, dataloader_num_workers=0, seed=0)
    reward = Recording("toy_echo", toy_server.url)
    trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=args, train_dataset=dataset,
                          processing_class=tokenizer)
    trainer.train()
    assert len(reward.calls) == 2  # one call per step, each with 4 completions (one prompt x num_generations)
    assert sorted(calls[0][0] for calls in reward.calls) == ['{"answer": "!invalid"}', '{"answer": "11"}']
    for tasks, rewards in reward.calls:
        assert len(rewards) == 4 and len(set(tasks)) == 1
        if "!invalid" in tasks[0]:
            assert rewards == [None] * 4  # no reward: TRL leaves these out, never counts them as 0
        else:
            assert all(r in (0.0, 1.0) for r in rewards)
    logged = [entry for entry in trainer.state.log_history if "rewards/rewardgym_toy_echo/mean" in entry]
    assert len(logged) == 2


def test_conversational_completions_and_task_forms(toy_server):
    reward = TRLReward("toy_echo", toy_server.url)
    completions = [[{"role": "assistant", "content": "11"}], [{"role": "assistant", "content": "12"}], "42", "x"]
    tasks = [{"answer": "11", "unused": None}, {"answer": "11", "unused": None}, '{"answer": "42"}', "x"]
    assert reward(prompts=["p"] * 4, completions=completions, task=tasks, trainer_state=None) == [1.0, 0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="Expected a dataset column 'task'"):
        reward(prompts=["p"], completions=["1"], answer=["1"])


def test_groups_are_runs_of_the_same_task():
    groups = build_groups(["a", "b", "c", "d"], [{"answer": "1"}, {"answer": "1"}, "2", {"answer": "1"}])
    assert [(g["task"], g["completions"]) for g in groups] == [({"answer": "1"}, ["a", "b"]),
                                                               ({"answer": "2"}, ["c"]),
                                                               ({"answer": "1"}, ["d"])]


async def test_async_reward_function(toy_server):
    reward = AsyncTRLReward("toy_echo", toy_server.url)
    rewards = await reward(prompts=["p"] * 3, completions=["11", "!raise", ""], task=[{"answer": "11"}] * 3)
    assert rewards == [1.0, None, 0.0]
