"""Per-step metrics: a JSONL file (one object per step), a progress bar, and a PNG plot of the reward curve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tqdm import tqdm


class RunLog:
    def __init__(self, folder: Path, total_steps: int, first_step: int = 0, progress: bool = True) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "metrics.jsonl"
        self.plot_path = folder / "reward.png"
        self.bar = tqdm(total=total_steps, initial=first_step, disable=not progress, dynamic_ncols=True)

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a") as out:
            out.write(json.dumps(record) + "\n")
        self.bar.update(1)
        self.bar.set_postfix({"reward": f"{record.get('reward/mean', float('nan')):.3f}",
                              "wait": f"{record.get('time/reward_wait_s', 0.0):.2f}s"}, refresh=False)

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def truncate_after(self, step: int) -> None:
        """On resume, forget steps logged after the checkpoint (they will be run again)."""
        kept = [r for r in self.records() if r["step"] <= step]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in kept))

    def close(self) -> None:
        self.bar.close()
        plot_rewards(self.records(), self.plot_path)


def plot_rewards(records: list[dict[str, Any]], path: Path, title: str = "GRPO through rewardgym") -> None:
    if not records:
        return
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    steps = [r["step"] for r in records]
    means = [r["reward/mean"] for r in records]
    window = max(1, len(means) // 20)
    smooth = [sum(means[max(0, i - window + 1) : i + 1]) / len(means[max(0, i - window + 1) : i + 1])
              for i in range(len(means))]
    figure, axis = plt.subplots(figsize=(7, 3.5), dpi=110)
    axis.plot(steps, means, color="tab:blue", alpha=0.3, linewidth=1, label="reward/mean per step")
    axis.plot(steps, smooth, color="tab:blue", linewidth=2, label=f"moving mean ({window} steps)")
    axis.set_xlabel("GRPO step")
    axis.set_ylabel("mean reward")
    axis.set_ylim(-0.02, 1.02)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
