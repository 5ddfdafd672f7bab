"""Short trainer runs against a live gateway (toy family): logs, plot, null rewards masked, checkpoint and resume."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from rewardgym_trainer.grpo import Args, parse_args, train
from rewardgym_trainer.models import builtin_policy, TinyGPTConfig
from rewardgym_trainer.warmstart import warm_start


def tasks_file(folder: Path) -> Path:
    path = folder / "tasks.jsonl"
    tasks = [{"prompt": f"Repeat {n}", "task": {"answer": str(n)}} for n in (11, 42, 77)]
    tasks.append({"prompt": "Repeat 0", "task": {"answer": "!invalid"}})  # scored invalid_task: reward None
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    return path


def warmstart_file(folder: Path) -> Path:
    """Answers drawn from the three numbers at random: after it, groups hold both right and wrong completions."""
    path = folder / "warmstart.jsonl"
    examples = [{"prompt": f"Repeat {n}", "completion": str(m)} for n in (11, 42, 77) for m in (11, 42, 77)]
    path.write_text("".join(json.dumps(e) + "\n" for e in examples))
    return path


def small_args(url: str, out: Path, **overrides) -> Args:
    settings = dict(url=url, env="toy_echo", tasks_file=str(tasks_file(out.parent)), steps=2, prompts_per_step=4,
                    warmstart_file=str(warmstart_file(out.parent)), warmstart_steps=120, warmstart_batch=9,
                    warmstart_learning_rate=5e-3,
                    group_size=4, max_new_tokens=4, builtin_width=32, builtin_context=16, out=str(out),
                    checkpoint_every=1, progress=False, torch_threads=1)
    return Args(**{**settings, **overrides})


def read_metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_a_short_run_logs_masks_null_rewards_and_resumes(toy_server, tmp_path):
    out = tmp_path / "run"
    train(small_args(toy_server.url, out))
    first = read_metrics(out)
    assert [r["step"] for r in first] == [1, 2]
    for record in first:
        assert record["status/invalid_task"] == 4.0 and record["reward/null_frac"] == 0.25
        assert record["groups/used_frac"] == 0.75  # the invalid task's group never enters the loss
        assert 0.0 < record["reward/mean"] < 1.0 and record["time/reward_wait_s"] >= 0.0
    assert (out / "reward.png").stat().st_size > 1000
    weights = torch.load(out / "checkpoint.pt", weights_only=False)["model"]

    train(small_args(toy_server.url, out, steps=4, resume=True))
    resumed = read_metrics(out)
    assert [r["step"] for r in resumed] == [1, 2, 3, 4] and resumed[:2] == first
    state = torch.load(out / "checkpoint.pt", weights_only=False)
    assert state["step"] == 4 and state["batches_drawn"] == 4
    assert any(not torch.equal(weights[k], state["model"][k]) for k in weights)  # steps 3-4 trained on


def test_dapo_with_kl_without_overlap_and_a_time_budget(toy_server, tmp_path):
    out = tmp_path / "dapo"
    train(small_args(toy_server.url, out, steps=50, variant="dapo", kl_coef=0.1, overlap_scoring=False,
                     max_seconds=0.0))
    (record,) = read_metrics(out)  # the budget ends the run after its first step
    assert record["kl/mean"] >= 0.0 and json.loads((out / "args.json").read_text())["clip_high"] == 0.28


def test_warm_start_lowers_the_loss_and_flags_parse():
    policy = builtin_policy(TinyGPTConfig(block_size=16, n_embd=32))
    examples = [{"prompt": f"{n}=", "completion": f"<{n}>"} for n in range(4)]
    losses = warm_start(policy, examples, steps=40, batch_size=4, learning_rate=3e-3,
                        device=torch.device("cpu"), seed=0)
    assert losses[-1] < losses[0] / 2
    args = parse_args(["--variant", "dr_grpo", "--no-overlap-scoring", "--clip-high", "0.3", "--steps", "7",
                       "--max-seconds", "60"])
    assert (args.variant.value, args.overlap_scoring, args.clip_high, args.steps, args.max_seconds) == (
        "dr_grpo", False, 0.3, 7, 60.0)


def test_a_hugging_face_model_from_a_local_folder(toy_server, tmp_path):
    from tests.support.tiny_hf import char_tokenizer, tiny_llama

    tokenizer = char_tokenizer()
    tiny_llama(len(tokenizer)).save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    out = tmp_path / "hf"
    train(small_args(toy_server.url, out, model=str(tmp_path / "model"), steps=2, warmstart_steps=20))
    assert [r["step"] for r in read_metrics(out)] == [1, 2]
    assert torch.load(out / "checkpoint.pt", weights_only=False)["policy_spec"] == {"kind": "hf",
                                                                                    "path": str(tmp_path / "model")}
