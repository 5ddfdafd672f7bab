"""GRPO against a rewardgym server, top to bottom: config, helpers, the loop.

    python -m rewardgym_trainer.grpo --url http://127.0.0.1:8000 --env arithmetic --steps 200

Each step samples G completions for each of B prompts, scores them with one `score_groups` call, turns rewards into
group advantages (see `algorithms.py` for grpo / dr_grpo / dapo) and takes a clipped policy-gradient step. With
`overlap_scoring`, the next batch is sampled before this one trains, and its rewards are computed by the server
while the policy updates (one step off-policy; the importance ratio against the sampling policy corrects for it).
A null reward (`None`: timeout, error, invalid task) is masked out of its group, never counted as 0.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ContextManager, Sequence

import torch

from rewardgym_client import RewardClient, ScoreResult
from rewardgym_trainer import checkpoint
from rewardgym_trainer.algorithms import LossConfig, Variant, group_advantages, policy_loss, rewards_tensor
from rewardgym_trainer.data import PromptBatches, PromptTask, jsonl_records, jsonl_tasks, server_tasks
from rewardgym_trainer.models import Policy, TinyGPTConfig, builtin_policy, hf_policy, sequence_logprobs
from rewardgym_trainer.runlog import RunLog
from rewardgym_trainer.sampling import Rollout, sample
from rewardgym_trainer.warmstart import warm_start


@dataclass
class Args:
    url: str = "http://127.0.0.1:8000"
    """The gateway (http://host:port or unix:///path.sock)."""
    env: str = "arithmetic"
    """The environment that scores completions."""
    token: str | None = None
    """Bearer token of the gateway, if it asks for one."""
    tasks_file: str | None = None
    """JSONL of {"prompt", "task"}; without it, `num_tasks` tasks come from the environment's generator."""
    num_tasks: int = 1024
    task_seed: int = 0
    task_options: str = "{}"
    """Generator options as JSON, e.g. '{"difficulty": "easy"}'."""
    model: str = "builtin"
    """`builtin` (a small character-level GPT, random init) or a local Hugging Face model folder."""
    builtin_layers: int = 2
    builtin_width: int = 128
    builtin_context: int = 64
    variant: Variant = Variant.GRPO
    steps: int = 200
    prompts_per_step: int = 32
    group_size: int = 8
    max_new_tokens: int = 16
    temperature: float = 1.0
    learning_rate: float = 3e-4
    warmup_steps: int = 10
    """The learning rate rises linearly over these first RL steps (Adam's first updates are the largest)."""
    clip_low: float = 0.2
    clip_high: float | None = None
    """Default: clip_low, or 0.28 for dapo (clip-higher)."""
    kl_coef: float = 0.0
    """Weight of KL to the initial policy (a frozen copy is kept only when > 0)."""
    updates_per_batch: int = 1
    """Optimizer steps on each batch (> 1 makes the clipping matter)."""
    max_grad_norm: float = 1.0
    overlap_scoring: bool = True
    """Sample the next batch and have it scored while the current one trains."""
    warmstart_file: str | None = None
    """JSONL of {"prompt", "completion"} for a supervised warm-start before RL (reported separately)."""
    warmstart_steps: int = 0
    warmstart_batch: int = 64
    warmstart_learning_rate: float = 1e-3
    out: str = "runs/grpo"
    """Folder of metrics.jsonl, reward.png, warmstart.json and checkpoint.pt."""
    checkpoint_every: int = 50
    max_seconds: float | None = None
    """Stop after the step that passes this many seconds of RL (checkpointed; `--resume` continues)."""
    resume: bool = False
    """Continue from `out`/checkpoint.pt when it exists."""
    seed: int = 0
    device: str = "auto"
    """auto (CUDA when available), cpu or cuda; bf16 autocast on CUDA where supported."""
    torch_threads: int = 0
    """CPU threads of torch (0: torch's default). On a shared machine, 1 avoids threads fighting for cores."""
    progress: bool = True
    client_timeout_s: float = 600.0

    def __post_init__(self) -> None:
        self.variant = Variant(self.variant)
        if self.clip_high is None:
            self.clip_high = 0.28 if self.variant is Variant.DAPO else self.clip_low
        for name in ("steps", "prompts_per_step", "group_size", "max_new_tokens", "updates_per_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"Expected {name} >= 1, got {getattr(self, name)}")
        if self.group_size < 2:
            raise ValueError(f"Expected group_size >= 2 (a group needs a baseline), got {self.group_size}")
        json.loads(self.task_options)


@dataclass
class Batch:
    """A sampled batch whose rewards are being computed by the server."""

    tasks: list[PromptTask]
    rollout: Rollout
    rewards: Future[list[list[ScoreResult]]]
    sample_s: float


@dataclass
class Runtime:
    device: torch.device
    autocast: Any = field(default=None)

    def precision(self) -> ContextManager[Any]:
        return self.autocast() if self.autocast else nullcontext()


def pick_device(name: str) -> Runtime:
    device = torch.device("cuda" if name == "auto" and torch.cuda.is_available() else
                          ("cpu" if name == "auto" else name))
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return Runtime(device, lambda: torch.autocast("cuda", dtype=torch.bfloat16))
    return Runtime(device)


def make_policy(args: Args) -> Policy:
    if args.model == "builtin":
        config = TinyGPTConfig(block_size=args.builtin_context, n_layer=args.builtin_layers,
                               n_embd=args.builtin_width)
        return builtin_policy(config, args.seed)
    return hf_policy(args.model)


def load_tasks(args: Args, client: RewardClient) -> list[PromptTask]:
    if args.tasks_file:
        return jsonl_tasks(args.tasks_file)
    return server_tasks(client, args.env, args.num_tasks, args.task_seed, json.loads(args.task_options))


def launch(args: Args, policy: Policy, client: RewardClient, scorer: ThreadPoolExecutor, tasks: list[PromptTask],
           runtime: Runtime) -> Batch:
    """Sample this batch's completions, then hand them to the server without waiting for the rewards."""
    started = time.perf_counter()
    policy.model.eval()
    with runtime.precision():
        rollout = sample(policy, [t.prompt for t in tasks], args.group_size, args.max_new_tokens,
                         args.temperature, runtime.device)
    g = args.group_size
    groups = [{"task": t.task, "completions": rollout.texts[i * g : (i + 1) * g]} for i, t in enumerate(tasks)]
    future = scorer.submit(client.score_groups, args.env, groups)
    return Batch(tasks, rollout, future, time.perf_counter() - started)


def update(args: Args, policy: Policy, reference: Policy | None, optimizer: torch.optim.Optimizer,
           rollout: Rollout, rewards: list[list[float | None]], runtime: Runtime) -> dict[str, float]:
    """One batch's policy-gradient step(s); returns loss, KL and group statistics."""
    stats = group_advantages(rewards_tensor(rewards), args.variant)
    advantages = stats.advantages.flatten().to(runtime.device)
    token_mask = rollout.completion_mask * stats.used.flatten().to(runtime.device).unsqueeze(1).long()
    config = LossConfig(clip_low=args.clip_low, clip_high=float(args.clip_high), kl_coef=args.kl_coef,
                        max_completion_tokens=args.max_new_tokens)
    ids, mask, start = rollout.input_ids, rollout.attention_mask, rollout.prompt_len
    ref_logp = None
    if reference is not None:
        with torch.no_grad(), runtime.precision():
            ref_logp = sequence_logprobs(reference, ids, mask, start, args.temperature)
    metrics: dict[str, float] = {"groups/zero_variance_frac": float(stats.zero_variance.float().mean()),
                                 "groups/used_frac": float(stats.used.float().mean())}
    policy.model.train()
    for _ in range(args.updates_per_batch):
        with runtime.precision():
            logp = sequence_logprobs(policy, ids, mask, start, args.temperature)
        loss, loss_metrics = policy_loss(logp, rollout.old_logp, advantages, token_mask, args.variant, config,
                                         ref_logp)
        metrics.update(loss_metrics)
        if int(token_mask.sum()) == 0:  # dapo dropped every group: nothing to learn from this batch
            break
        optimizer.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(policy.model.parameters(), args.max_grad_norm)
        optimizer.step()
        metrics["grad/norm"] = float(norm)
    return metrics


def reward_metrics(results: list[list[ScoreResult]]) -> dict[str, float]:
    flat = [r for group in results for r in group]
    scored = [r.reward for r in flat if r.reward is not None]
    mean = sum(scored) / len(scored) if scored else float("nan")
    std = (sum((x - mean) ** 2 for x in scored) / len(scored)) ** 0.5 if scored else float("nan")
    statuses = Counter(r.status.value for r in flat)
    return {"reward/mean": mean, "reward/std": std, "reward/null_frac": 1 - len(scored) / len(flat),
            **{f"status/{name}": float(count) for name, count in sorted(statuses.items())}}


def run_warm_start(args: Args, policy: Policy, out: Path, runtime: Runtime) -> None:
    if not args.warmstart_file or args.warmstart_steps == 0:
        return
    examples = jsonl_records(args.warmstart_file, ("prompt", "completion"))
    started = time.perf_counter()
    losses = warm_start(policy, examples, args.warmstart_steps, args.warmstart_batch,
                        args.warmstart_learning_rate, runtime.device, args.seed)
    report = {"steps": args.warmstart_steps, "examples": len(examples), "seconds": time.perf_counter() - started,
              "first_loss": losses[0], "last_loss": losses[-1]}
    (out / "warmstart.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"warm-start: {report['steps']} steps in {report['seconds']:.1f} s, "
          f"loss {report['first_loss']:.3f} -> {report['last_loss']:.3f}", flush=True)


def train(args: Args) -> Path:
    """Run GRPO as configured; return the output folder (metrics.jsonl, reward.png, checkpoint.pt)."""
    runtime = pick_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    policy = make_policy(args)
    policy.model.to(runtime.device)
    optimizer = torch.optim.AdamW(policy.model.parameters(), lr=args.learning_rate, weight_decay=0.0)
    client = RewardClient(args.url, token=args.token, timeout_s=args.client_timeout_s)
    client.wait_ready()
    batches = PromptBatches(load_tasks(args, client), args.prompts_per_step, args.seed)
    state = checkpoint.load(out) if args.resume else None
    start = 0
    if state is not None:
        start = checkpoint.restore(state, policy, optimizer)
        batches.drawn = state["batches_drawn"]
    else:
        (out / "metrics.jsonl").unlink(missing_ok=True)
        run_warm_start(args, policy, out, runtime)
    reference = copy.deepcopy(policy) if args.kl_coef > 0 else None  # the policy RL starts from
    log = RunLog(out, args.steps, start, args.progress)
    log.truncate_after(start)
    (out / "args.json").write_text(json.dumps(dataclasses.asdict(args), default=str, indent=2) + "\n")
    with client, ThreadPoolExecutor(1, thread_name_prefix="rewards") as scorer:
        try:
            _loop(args, policy, reference, optimizer, client, scorer, batches, runtime, log, start, out)
        finally:
            log.close()
    return out


def _loop(args: Args, policy: Policy, reference: Policy | None, optimizer: torch.optim.Optimizer,
          client: RewardClient, scorer: ThreadPoolExecutor, batches: PromptBatches, runtime: Runtime, log: RunLog,
          start: int, out: Path) -> None:
    began = time.perf_counter()
    pending = launch(args, policy, client, scorer, next(batches), runtime)
    for step in range(start + 1, args.steps + 1):
        step_started = time.perf_counter()
        batch = pending
        results = batch.rewards.result()
        waited = time.perf_counter() - step_started
        last = step == args.steps or (args.max_seconds is not None and step_started - began > args.max_seconds)
        if args.overlap_scoring and not last:  # the server scores the next batch while this one trains
            pending = launch(args, policy, client, scorer, next(batches), runtime)
        rewards = [[r.reward for r in group] for group in results]
        for group in optimizer.param_groups:  # a function of the step, so a resumed run continues the schedule
            group["lr"] = args.learning_rate * min(1.0, step / max(args.warmup_steps, 1))
        metrics = update(args, policy, reference, optimizer, batch.rollout, rewards, runtime)
        if not args.overlap_scoring and not last:
            pending = launch(args, policy, client, scorer, next(batches), runtime)
        elapsed = time.perf_counter() - step_started
        log.write({"step": step, **reward_metrics(results), **metrics, "time/reward_wait_s": waited,
                   "time/sample_s": batch.sample_s, "time/step_s": elapsed,
                   "perf/tokens_per_s": batch.rollout.tokens / max(elapsed, 1e-9),
                   "completion/mean_tokens": batch.rollout.tokens / len(batch.rollout.texts)})
        if step % args.checkpoint_every == 0 or last:
            # the pending batch is dropped on resume and sampled again: count only batches already trained on
            drawn = batches.drawn - (0 if last else 1)
            checkpoint.save(out, policy, optimizer, step, {"batches_drawn": drawn})
        if last:
            break


def parse_args(argv: Sequence[str] | None = None) -> Args:
    """Command-line flags generated from `Args` (`--prompts-per-step 32`, `--no-overlap-scoring`, ...)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for item in dataclasses.fields(Args):
        flag = "--" + item.name.replace("_", "-")
        default = item.default
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif isinstance(default, Variant):
            parser.add_argument(flag, choices=[v.value for v in Variant], default=default.value)
        else:
            annotation = str(item.type)  # e.g. "float | None" (annotations are strings here)
            kind = float if annotation.startswith("float") else int if annotation.startswith("int") else str
            parser.add_argument(flag, type=kind, default=default)
    return Args(**vars(parser.parse_args(argv)))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out = train(args)
    print(f"done: {out / 'metrics.jsonl'}, {out / 'reward.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
