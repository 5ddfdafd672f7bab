"""Answer extraction shared by the math family: `\\boxed{}`, `<answer>` tags, "the answer is ...".

Every function here runs in time linear in the completion's length, without recursion and without regexes that can
backtrack catastrophically: a completion may be 1 MB long or hold 10,000 nested braces. Which forms an environment
accepts is its own choice (`forms=`); the first form that yields something wins, in the order given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Sequence

AnswerForm = Literal["boxed", "answer_tag", "answer_is", "hashes"]
"""`hashes` is GSM8K's `#### 18` line; environments list the forms they accept, in priority order."""

DEFAULT_FORMS: tuple[AnswerForm, ...] = ("boxed", "answer_tag", "answer_is")

MAX_ANSWER_IS_CHARS = 300
"""How much of the line after "the answer is" is taken: an answer, not the rest of an essay."""

FORMAT_OK = 1.0
FORMAT_MISSING = 0.0

_BOX_COMMAND = re.compile(r"\\(?:boxed|fbox)\s*\{")
_ANSWER_IS = re.compile(r"(?i)\b(?:final\s+)?answer(?:\s+is\b\s*:?|\s*:)")
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
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            stack.append(i)
        elif char == "}" and stack:
            closing[stack.pop()] = i
        i += 1
    return closing


def last_boxed(text: str) -> Extraction | None:
    """The content of the last `\\boxed{...}` (or `\\fbox{...}`) whose brace is closed."""
    openings = [m.end() - 1 for m in _BOX_COMMAND.finditer(text)]
    if not openings:
        return None
    closing = match_braces(text)
    for brace in reversed(openings):
        end = closing.get(brace)
        if end is not None:
            return Extraction(text=text[brace + 1 : end].strip(), form="boxed", start=brace + 1)
    return None


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
    """What follows the last "the answer is" / "answer:" up to the end of its line, trimmed of punctuation."""
    last = None
    for last in _ANSWER_IS.finditer(text):
        pass
    if last is None:
        return None
    start = last.end()
    line_end = text.find("\n", start)
    if line_end == -1:
        line_end = len(text)
    line_end = min(line_end, start + MAX_ANSWER_IS_CHARS)
    answer = strip_answer_decoration(text[start:line_end])
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


def extract_answer(completion: str, forms: Sequence[AnswerForm] = DEFAULT_FORMS) -> Extraction | None:
    """The answer in the first of `forms` that the completion uses (the last occurrence of that form)."""
    for form in forms:
        if form not in _EXTRACTORS:
            raise ValueError(f"Expected an answer form among {sorted(_EXTRACTORS)}, got {form!r}")
        found = _EXTRACTORS[form](completion)
        if found is not None and found.text:
            if form == "answer_tag":
                found = Extraction(text=strip_answer_decoration(found.text), form=form, start=found.start)
            return found
    return None


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
