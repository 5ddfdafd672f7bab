"""`gsm8k`: grade-school word problems with one numeric final answer, compared exactly."""

from __future__ import annotations

from fractions import Fraction

from pydantic import Field

from rewardgym.sdk import Environment, Example, InvalidTask, Score, TaskModel

from rewardgym_math.common import find_answer, oversized, verdict
from rewardgym_math.extract import AnswerForm
from rewardgym_math.numbers import first_number


class Gsm8kTask(TaskModel):
    answer: str = Field(min_length=1, description="The gold number, e.g. '18', '-3', '1,000', '2.5'.")


def gold_number(answer: str) -> Fraction:
    """The task's gold as an exact number; an unusable gold is the task's fault."""
    value = first_number(answer)
    if value is None:
        raise InvalidTask(f"Expected a number as the gold answer, got {answer!r}")
    return value


class Gsm8kEnv(Environment[Gsm8kTask]):
    name = "gsm8k"
    version = "1.1.0"
    description = (
        "Numeric final answers (GSM8K). Extraction: the answer stated last among a '#### <answer>' line, "
        "\\boxed{...}, <answer>...</answer> and an answer phrase ('the answer is', 'Answer:', 'A resposta é', "
        "'La respuesta es', 'La réponse est', 'Die Antwort ist', ...; the sentence after it). From that text the first "
        "number is read (after the last '=' if any): thousands separators (1,000), '$', LaTeX \\text{} and trailing "
        "units ('18 dollars', '18 cm') are ignored, decimals are exact (18.0 == 18), negatives and \\frac{a}{b} or "
        "a/b allowed. Compared exactly as fractions. Reward: 1.0 if equal to the gold number, else 0.0; no answer "
        "or no number in it -> status no_answer. Components: correct (= reward), format (1.0 when a "
        "<think>...</think> block precedes the answer; reported, not added to the reward)."
    )
    Task = Gsm8kTask
    answer_forms: tuple[AnswerForm, ...] = ("hashes", "boxed", "answer_tag", "answer_is")

    def score(self, task: Gsm8kTask, completion: str) -> Score:
        gold = gold_number(task.answer)
        found = find_answer(completion, self.answer_forms)
        if isinstance(found, Score):
            return found
        if (refused := oversized(found, completion)) is not None:
            return refused
        value = first_number(found.text)
        if value is None:
            return Score.no_answer(f"Expected a number in the answer, got {found.text[:100]!r}", extracted=found.text)
        return verdict(value == gold, found, completion, value=str(value))

    def examples(self) -> list[Example[Gsm8kTask]]:
        return [
            Example(Gsm8kTask(answer="18"), "<think>16 - 3 - 4 = 9 eggs, 9 * 2 = 18.</think>\n#### 18", 1.0),
            Example(Gsm8kTask(answer="1000"), "She earns $1,000 in total. The answer is $1,000.", 1.0),
            Example(Gsm8kTask(answer="18"), "The answer is 17 dollars.", 0.0),
        ]
