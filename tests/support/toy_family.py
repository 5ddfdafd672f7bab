"""A small family for testing the machinery (pool, worker, gateway) without the math family's dependencies.

`toy_echo` scores 1 when the completion equals the task's answer. Completions starting with `!` misbehave on
purpose: `!sleep N`, `!crash` (the process exits), `!raise`, `!memory` (allocates without bound), `!peek` (answers
with the task's answer if any process's command line holds it).
"""

from __future__ import annotations

import os
import random
import time

from rewardgym.registry import Family
from rewardgym.sdk import Environment, Generated, GenerateOptions, InvalidTask, Score, TaskModel


class EchoTask(TaskModel):
    answer: str


class ToyEcho(Environment[EchoTask]):
    name = "toy_echo"
    version = "0.1.0"
    description = "Reward 1 when the completion equals task.answer; `!` commands misbehave for tests."
    Task = EchoTask
    timeout_s = 2.0
    max_timeout_s = 5.0

    def score(self, task: EchoTask, completion: str) -> Score:
        if task.answer == "!invalid":
            raise InvalidTask("this task is marked invalid")
        if completion.startswith("!sleep "):
            time.sleep(float(completion.split()[1]))
        elif completion == "!crash":
            os._exit(3)
        elif completion == "!raise":
            raise RuntimeError("boom")
        elif completion == "!memory":
            hog = []
            while True:
                hog.append(bytearray(64 * 1024 * 1024))
        elif completion == "!peek":  # what a cheating program run on this host would try: answers in argv
            completion = task.answer if _in_some_command_line(task.answer) else "not found"
        if not completion.strip():
            return Score.no_answer()
        correct = float(completion.strip() == task.answer)
        return Score(reward=correct, components={"correct": correct}, details={"extracted": completion.strip()})

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[EchoTask]:
        digits = {"easy": 2, "medium": 4, "hard": 8}[options.difficulty]
        answer = str(rng.randrange(10 ** (digits - 1), 10**digits))
        return Generated(prompt=f"Repeat {answer}", task=EchoTask(answer=answer), solution=answer)


def _in_some_command_line(text: str) -> bool:
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if text.encode() in cmdline.read():
                    return True
        except OSError:
            continue
    return False


FAMILY = Family(name="toy", environments=(ToyEcho,))
