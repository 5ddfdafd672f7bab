"""Finding the answer in a completion: the last `<answer>...</answer>`, else the last `\\boxed{...}`.

reasoning-gym's prompts ask for `<answer>` tags, so that form comes first; `\\boxed{}` is accepted as in our math
family. Both searches run in time linear in the completion (no backtracking regexes, no recursion): a completion
may be 1 MB long or hold 10,000 nested braces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

AnswerForm = Literal["answer_tag", "boxed"]

_ANSWER_OPEN = "<answer>"
_ANSWER_CLOSE = "</answer>"
_BOX_COMMAND = re.compile(r"\\(?:boxed|fbox)\s*\{")


@dataclass(frozen=True)
class Answer:
    """The text handed to reasoning-gym's scorer, and the form it was found in."""

    text: str
    form: AnswerForm


def last_answer_tag(completion: str) -> str | None:
    """The content of the last `<answer>` that has a closing `</answer>` after it (two scans, no loop)."""
    last_close = completion.rfind(_ANSWER_CLOSE)
    start = completion.rfind(_ANSWER_OPEN, 0, last_close) if last_close != -1 else -1
    if start == -1:
        return None
    content_start = start + len(_ANSWER_OPEN)
    return completion[content_start : completion.find(_ANSWER_CLOSE, content_start)]


def last_boxed(completion: str) -> str | None:
    """The content of the last `\\boxed{` (or `\\fbox{`) whose brace is closed; `\\{` and `\\}` do not count."""
    openings = [match.end() for match in _BOX_COMMAND.finditer(completion)]
    if not openings:
        return None
    closing_of: dict[int, int] = {}
    stack: list[int] = []
    i = 0
    while i < len(completion):
        char = completion[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            stack.append(i + 1)
        elif char == "}" and stack:
            closing_of[stack.pop()] = i
        i += 1
    for content_start in reversed(openings):
        if content_start in closing_of:
            return completion[content_start : closing_of[content_start]]
    return None


def extract_answer(completion: str) -> Answer | None:
    """The stripped answer, or None when the completion has no non-empty answer in either form."""
    for form, find in (("answer_tag", last_answer_tag), ("boxed", last_boxed)):
        found = find(completion)
        if found is not None and found.strip():
            return Answer(text=found.strip(), form=form)  # type: ignore[arg-type]
    return None
