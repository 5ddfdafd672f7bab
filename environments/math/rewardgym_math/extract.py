"""Answer extraction shared by the math family: `\\boxed{}`, `<answer>` tags, answer phrases, `####`.

Every function here runs in time linear in the completion's length, without recursion and without regexes that can
backtrack catastrophically: a completion may be 1 MB long or hold 10,000 nested braces. Which forms an environment
accepts is its own choice (`forms=`); of those the completion uses, the one stated last wins (a later
"The final answer is $10,455$" overrides an earlier `\\boxed{255}` of an intermediate result).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Literal, Sequence

from rewardgym_math.phrases import MAX_ANSWER_IS_CHARS, answer_after, last_answer_phrase

AnswerForm = Literal["boxed", "answer_tag", "answer_is", "hashes"]
"""`hashes` is GSM8K's `#### 18` line; `answer_is` covers the answer phrases of every supported language."""

DEFAULT_FORMS: tuple[AnswerForm, ...] = ("boxed", "answer_tag", "answer_is")

FORMAT_OK = 1.0
FORMAT_MISSING = 0.0

MAX_GLUE_CHARS = 120
"""Boxes further apart than this are separate answers, never one answer in parts."""

_BOX_COMMAND = re.compile(r"\\(?:boxed|fbox|[a-zA-Z]+boxed)\s*\{")
_GLUE_TEXT = re.compile(r"\\(?:text|mbox|textrm|mathrm)\s*\{[^{}.]{0,60}\}")
_GLUE = re.compile(
    r"(?:\s|[,;&$]|\\[()\[\],;: !]|\\q?quad|\\\\|and|or|und|oder|et|ou|y|e"
    r"|[A-Za-z](?:_\{?\w{1,3}\}?)?\s*=)*",
    re.IGNORECASE,
)
_ANSWER_CONTENT = re.compile(r"[\d\\$]|(?<![\w'])[A-Z](?![\w'])")
_BRACE_TOKEN = re.compile(r"\\.|[{}]", re.DOTALL)
_JOINER = re.compile(r"[,;&]|\b(?:and|or|und|oder|et|ou|y|e)\b", re.IGNORECASE)
_LABEL_BEFORE = re.compile(r"([A-Za-z](?:_\{?\w{1,3}\}?)?)\s*=\s*(?:\$|\\\(|\\\[)?\s*$")
_ANSWER_OPEN = "<answer>"
_ANSWER_CLOSE = "</answer>"
_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"


@dataclass(frozen=True)
class Extraction:
    """An extracted answer: its text, the form it was found in, and where it starts in the completion."""

    text: str
    form: AnswerForm
    start: int


def match_braces(text: str) -> dict[int, int]:
    """Map the index of every balanced `{` to its closing `}`, in one pass with an explicit stack.

    A backslash escapes the next character, so `\\{` and `\\}` (set braces in LaTeX) are not grouping braces.
    """
    closing: dict[int, int] = {}
    stack: list[int] = []
    for token in _BRACE_TOKEN.finditer(text):
        char = token.group()
        if char == "{":
            stack.append(token.start())
        elif char == "}" and stack:
            closing[stack.pop()] = token.start()
    return closing


@dataclass(frozen=True)
class Box:
    """One closed box: where its command starts, and its content's bounds."""

    command: int
    start: int
    end: int


def closed_boxes(text: str) -> Iterator[Box]:
    """The `\\boxed{...}` / `\\fbox{...}` whose brace closes, last first (misspellings ending in `boxed` too)."""
    if "}" not in text:
        return  # nothing closes (1 MB of `\\boxed{` costs a scan in C, not a million steps in Python)
    commands = [(m.start(), m.end() - 1) for m in _BOX_COMMAND.finditer(text)]
    if not commands:
        return
    closing = match_braces(text)
    for command, brace in reversed(commands):
        if brace in closing:
            yield Box(command, brace + 1, closing[brace])


def is_glue(between: str) -> bool:
    """True when the text between two boxes only joins them: a comma, `and`/`or` or a `\\text{...}` at least,
    besides spaces, `\\quad`, math delimiters and labels (`y_2 =`). Boxes side by side with nothing that joins
    them (`\\boxed{9} \\boxed{42}`) are separate answers: the last one counts.
    """
    if len(between) > MAX_GLUE_CHARS:
        return False
    words = _GLUE_TEXT.sub(" and ", between)
    return _GLUE.fullmatch(words) is not None and _JOINER.search(words) is not None


def last_boxed(text: str) -> Extraction | None:
    """The last box, joined with the boxes before it that form one answer with it (the multi-box rule).

    Boxes separated only by glue (`\\boxed{1}, \\boxed{2} and \\boxed{3}`,
    `\\boxed{k = 45} \\quad\\text{and}\\quad \\boxed{n = 2}`) are one answer, their contents joined by commas,
    each with the label written before its box (`y_1 = \\boxed{...}`); any other text ends the group.
    """
    boxes = closed_boxes(text)
    last = next(boxes, None)
    if last is None:
        return None
    group = [last]
    for box in boxes:
        if box.end >= group[0].command or not is_glue(text[box.end + 1 : group[0].command]):
            break
        group.insert(0, box)
    if len(group) == 1:
        return Extraction(text=text[group[0].start : group[0].end].strip(), form="boxed", start=group[0].start)
    parts = []
    for box in group:
        label = _LABEL_BEFORE.search(text, max(0, box.command - 20), box.command)
        content = text[box.start : box.end].strip()
        parts.append(f"{label.group(1)} = {content}" if label else content)
    return Extraction(text=", ".join(parts), form="boxed", start=group[0].start)


def last_answer_tag(text: str) -> Extraction | None:
    """The content of the last closed `<answer>...</answer>` pair."""
    start = text.rfind(_ANSWER_OPEN)
    while start != -1:
        end = text.find(_ANSWER_CLOSE, start)
        if end != -1:
            content_start = start + len(_ANSWER_OPEN)
            return Extraction(text=text[content_start:end].strip(), form="answer_tag", start=content_start)
        start = text.rfind(_ANSWER_OPEN, 0, start)
    return None


def last_answer_is(text: str) -> Extraction | None:
    """The answer after the last answer phrase (see `phrases.py`), trimmed of punctuation and `$...$`."""
    phrase = last_answer_phrase(text)
    if phrase is None:
        return None
    answer, start = answer_after(text, phrase.end())
    answer = strip_answer_decoration(answer)
    if not answer:
        return None
    return Extraction(text=answer, form="answer_is", start=start)


def last_hashes(text: str) -> Extraction | None:
    """What follows the last `####` (GSM8K's answer marker) up to the end of its line."""
    at = text.rfind("####")
    if at == -1:
        return None
    start = at + 4
    line_end = text.find("\n", start)
    line_end = min(len(text) if line_end == -1 else line_end, start + MAX_ANSWER_IS_CHARS)
    answer = strip_answer_decoration(text[start:line_end])
    return Extraction(text=answer, form="hashes", start=start) if answer else None


def strip_answer_decoration(answer: str) -> str:
    """Trim what surrounds an answer in prose: spaces, a final period, `**bold**`, `$...$` math delimiters."""
    answer = answer.strip()
    for _ in range(3):
        before = answer
        answer = answer.strip().rstrip(".").strip()
        if answer.startswith("**") and answer.endswith("**") and len(answer) >= 4:
            answer = answer[2:-2]
        if answer.startswith("$$") and answer.endswith("$$") and len(answer) >= 4:
            answer = answer[2:-2]
        elif answer.startswith("$") and answer.endswith("$") and len(answer) >= 2 and answer.count("$") == 2:
            answer = answer[1:-1]
        if answer.startswith("\\(") and answer.endswith("\\)"):
            answer = answer[2:-2]
        if answer.startswith("\\[") and answer.endswith("\\]"):
            answer = answer[2:-2]
        if answer == before:
            break
    return answer.strip()


_EXTRACTORS = {"boxed": last_boxed, "answer_tag": last_answer_tag, "answer_is": last_answer_is, "hashes": last_hashes}


def has_answer_content(text: str) -> bool:
    """Does an answer name something: a digit, LaTeX, a math delimiter or a choice letter (`see above` does not)?"""
    return _ANSWER_CONTENT.search(text) is not None


def extract_answer(completion: str, forms: Sequence[AnswerForm] = DEFAULT_FORMS) -> Extraction | None:
    """The answer stated last among the forms in `forms` that the completion uses (each form's last occurrence).

    A prose answer after a phrase that names nothing (`Answer: see the box above.`) does not override an earlier
    answer that does; with nothing else stated it is the answer (`The answer is: no solution`).
    """
    found_forms: list[Extraction] = []
    for form in forms:
        if form not in _EXTRACTORS:
            raise ValueError(f"Expected an answer form among {sorted(_EXTRACTORS)}, got {form!r}")
        found = _EXTRACTORS[form](completion)
        if found is None or not found.text:
            continue
        if form == "answer_tag":
            found = Extraction(text=strip_answer_decoration(found.text), form=form, start=found.start)
        if found.text:
            found_forms.append(found)
    if not found_forms:
        return None
    found_forms.sort(key=lambda extraction: extraction.start, reverse=True)
    naming = [f for f in found_forms if f.form != "answer_is" or has_answer_content(f.text)]
    return naming[0] if naming else found_forms[0]


def format_score(completion: str, answer_start: int) -> float:
    """1.0 when exactly one `<think>...</think>` block closes before the answer starts, else 0.0.

    Reported as a component only: the reward of every math environment is correctness alone.
    """
    open_at = completion.find(_THINK_OPEN)
    if open_at == -1 or completion.find(_THINK_OPEN, open_at + 1) != -1:
        return FORMAT_MISSING
    close_at = completion.find(_THINK_CLOSE, open_at)
    if close_at == -1 or completion.find(_THINK_CLOSE, close_at + 1) != -1:
        return FORMAT_MISSING
    if completion[:open_at].strip():
        return FORMAT_MISSING
    return FORMAT_OK if close_at + len(_THINK_CLOSE) <= answer_start else FORMAT_MISSING
