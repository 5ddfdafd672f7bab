"""The same seed gives the same task in every process, whatever its hash seed.

A worker's scoring processes are separate interpreters: a generator that iterates over a set of strings gives a
different task per process, which one process alone cannot notice. Two processes with different PYTHONHASHSEED
generate seed 0 at every served difficulty of every served dataset and must agree.
"""

from __future__ import annotations

import os
import subprocess
import sys

DIGESTS = """
import hashlib, json
from rewardgym.sdk import task_rng
from rewardgym_puzzles import FAMILY, catalogue
for name, env in sorted(FAMILY.instantiate().items()):
    for difficulty in catalogue.served_difficulties(env.dataset):
        generated = env.generate(task_rng(name, 0, 0), env.Options(difficulty=difficulty))
        payload = json.dumps([generated.prompt, generated.task.model_dump(mode="json")], sort_keys=True)
        print(name, difficulty, hashlib.sha256(payload.encode()).hexdigest())
"""


def test_tasks_do_not_depend_on_the_hash_seed() -> None:
    runs = [subprocess.Popen([sys.executable, "-c", DIGESTS], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONHASHSEED": str(hash_seed)})
            for hash_seed in (1, 2)]
    outputs = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=600)
        assert run.returncode == 0, stderr[-3000:]
        outputs.append([line for line in stdout.splitlines() if line.startswith("rg_")])
    first, second = outputs
    assert len(first) > 200
    differing = [a.rsplit(" ", 1)[0] for a, b in zip(first, second) if a != b]
    assert not differing, f"tasks differ between hash seeds: {differing}"
