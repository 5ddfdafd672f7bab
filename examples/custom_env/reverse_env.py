"""A third-party rewardgym environment: reward 1 when the completion is the task's text reversed."""

import random

from rewardgym import Environment, Generated, GenerateOptions, Score, TaskModel
from rewardgym.registry import Family

WORDS = ["reward", "gym", "group", "policy", "token", "verify", "sandbox", "gradient"]


class ReverseTask(TaskModel):
    text: str


class Reverse(Environment[ReverseTask]):
    name = "reverse"
    version = "1.0.0"
    description = "Reverse the given text. Reward 1 if the completion (stripped) is exactly the reversed text."
    Task = ReverseTask

    def score(self, task: ReverseTask, completion: str) -> Score:
        answer = completion.strip()
        if not answer:
            return Score.no_answer()
        correct = float(answer == task.text[::-1])
        return Score(reward=correct, components={"correct": correct}, details={"extracted": answer[:200]})

    def generate(self, rng: random.Random, options: GenerateOptions) -> Generated[ReverseTask]:
        count = {"easy": 1, "medium": 2, "hard": 4}[options.difficulty]
        text = " ".join(rng.choice(WORDS) for _ in range(count))
        return Generated(prompt=f"Reverse this text: {text}", task=ReverseTask(text=text), solution=text[::-1])


FAMILY = Family(name="reverse", environments=(Reverse,))
