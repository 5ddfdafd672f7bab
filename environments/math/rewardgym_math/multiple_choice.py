"""`multiple_choice`: one letter A-J, read with a string extraction of our own (not math-verify)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from rewardgym.sdk import Environment, Example, Score, TaskModel

from rewardgym_math.common import find_answer, verdict
from rewardgym_math.extract import AnswerForm, Extraction

LETTERS = "ABCDEFGHIJ"
MAX_CHOICES = len(LETTERS)

_WRAPPER = re.compile(r"\\(?:text|textbf|mathrm|mathbf|textrm|mathit)\{([^{}]*)\}")
# A letter at the start of the answer: "C", "(C)", "C)", "C.", "[C]", "C: 42", "option C", "choice (C)", and the
# same in Portuguese, Spanish, French and German ("a alternativa C", "la opción C", "l'option C", "Antwort C").
_OPTION_WORD = (
    r"(?i:(?:the|a|o|la|le|l'|die)\s*)?"
    r"(?i:option|choice|letter|opção|opcao|alternativa|letra|opción|opcion|choix|lettre|antwort|auswahl)"
)
_LEADING_LETTER = re.compile(rf"^(?:{_OPTION_WORD}\s+)?[(\[]?([A-J])(?:[)\]]|(?=[\s.:,;]|$))")
# A final line that is only a letter: "(C)", "**C**", "C." — the bare form, anchored to the completion's end.
_BARE_LAST_LINE = re.compile(r"[*_\s]*\(([A-J])\)[*_\s.]*|[*_\s]*([A-J])[*_\s]*\.?")


class MultipleChoiceTask(TaskModel):
    answer: str = Field(description="The correct letter, A to J.")
    choices: list[str] | None = Field(
        default=None, description="Optional choice texts, in letter order: an answer that repeats one counts as it."
    )

    @field_validator("answer")
    @classmethod
    def _one_letter(cls, value: str) -> str:
        letter = value.strip().strip("()").upper()
        if len(letter) != 1 or letter not in LETTERS:
            raise ValueError(f"Expected one letter A-J, got {value!r}")
        return letter

    @field_validator("choices")
    @classmethod
    def _at_most_ten(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not 1 <= len(value) <= MAX_CHOICES:
            raise ValueError(f"Expected 1 to {MAX_CHOICES} choices, got {len(value)}")
        return value


def _normalize(text: str) -> str:
    for _ in range(3):
        text = _WRAPPER.sub(r"\1", text)
    return " ".join(text.replace("*", "").replace("$", "").split()).strip().rstrip(".").strip()


def letter_of(answer: str, choices: list[str] | None) -> str | None:
    """The letter an extracted answer names: a leading letter form, or the text of one of the choices."""
    text = _normalize(answer)
    match = _LEADING_LETTER.match(text)
    if match:
        return match.group(1).upper()
    if choices:
        lowered = text.lower()
        for letter, choice in zip(LETTERS, choices):
            if _normalize(choice).lower() == lowered:
                return letter
    return None


def bare_last_line(completion: str) -> Extraction | None:
    """The completion's last line when it is only a letter, like `(C)` or `**C**`."""
    stripped = completion.rstrip()
    start = stripped.rfind("\n") + 1
    line = stripped[start:]
    if len(line) > 20:
        return None
    match = _BARE_LAST_LINE.fullmatch(line)
    if match is None:
        return None
    return Extraction(text=match.group(1) or match.group(2), form="answer_is", start=start)


class MultipleChoiceEnv(Environment[MultipleChoiceTask]):
    name = "multiple_choice"
    version = "1.1.0"
    description = (
        "Multiple choice, letters A-J. Extraction: the answer stated last among \\boxed{...}, <answer>...</answer> "
        "and an answer phrase ('the answer is', 'Answer:', 'A resposta é', 'La respuesta es', 'La réponse est', "
        "'Die Antwort ist', ...), else a final line that is only the letter ('(C)', '**C**'). "
        "The letter is read from the start of that text: 'C', '(C)', 'C)', '\\text{(C)}', 'option C', 'C: 42', "
        "'la opción C'; "
        "when the task lists choices, an answer equal to a choice's text counts as its letter. Reward: 1.0 if the "
        "letter is the gold one, else 0.0; no answer or no letter -> status no_answer. Components: correct "
        "(= reward), format (1.0 when a <think>...</think> block precedes the answer; reported, not added)."
    )
    Task = MultipleChoiceTask
    answer_forms: tuple[AnswerForm, ...] = ("boxed", "answer_tag", "answer_is")

    def score(self, task: MultipleChoiceTask, completion: str) -> Score:
        found = find_answer(completion, self.answer_forms)
        if isinstance(found, Score):
            bare = bare_last_line(completion)
            if bare is None:
                return found
            found = bare
        letter = letter_of(found.text[:1000], task.choices)
        if letter is None:
            return Score.no_answer(f"Expected a letter A-J in the answer, got {found.text[:100]!r}", extracted=found.text[:1000])
        if task.choices is not None and LETTERS.index(letter) >= len(task.choices):
            return verdict(False, found, completion, letter=letter, message=f"Expected one of {LETTERS[: len(task.choices)]}, got {letter}")
        return verdict(letter == task.answer, found, completion, letter=letter)

    def examples(self) -> list[Example[MultipleChoiceTask]]:
        return [
            Example(MultipleChoiceTask(answer="C", choices=["1", "2", "3", "4"]), "<think>1+2=3</think> The answer is (C).", 1.0),
            Example(MultipleChoiceTask(answer="B"), "\\boxed{\\text{(B)}}", 1.0),
            Example(MultipleChoiceTask(answer="B"), "Answer: D", 0.0),
        ]
