"""What every math environment shares: reward constants, the verdict builder, the answer length cap."""

from __future__ import annotations

from typing import Any, Sequence

from rewardgym.sdk import Score

from rewardgym_math.extract import AnswerForm, Extraction, extract_answer, format_score

REWARD_CORRECT = 1.0
REWARD_WRONG = 0.0

MAX_ANSWER_CHARS = 2_000
"""Longer extracted answers score 0 without being parsed: no real answer is that long, and parsers are slow."""

MAX_NESTING_DEPTH = 10
"""Deeper bracket nesting scores 0 without being parsed (see `oversized`)."""


def find_answer(completion: str, forms: Sequence[AnswerForm]) -> Extraction | Score:
    """The extraction, or the `no_answer` score to return when there is none."""
    extraction = extract_answer(completion, forms)
    if extraction is None:
        return Score.no_answer(f"Expected an answer in one of the forms {list(forms)}, found none", extracted=None)
    return extraction


def verdict(correct: bool, extraction: Extraction, completion: str, **details: Any) -> Score:
    """A scored result: reward is correctness alone; `format` is reported as a component, never added in."""
    reward = REWARD_CORRECT if correct else REWARD_WRONG
    return Score(
        reward=reward,
        components={"correct": reward, "format": format_score(completion, extraction.start)},
        details={"extracted": extraction.text, "form": extraction.form, **details},
    )


def nesting_depth(text: str) -> int:
    """The deepest nesting of (), [] and {} in `text`, in one pass."""
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(depth - 1, 0)
    return deepest


def oversized(extraction: Extraction, completion: str) -> Score | None:
    """A wrong verdict for an answer too long or too deeply nested to be worth parsing, else None.

    latex2sympy's parser slows down sharply with bracket depth (depth 14 of bare braces takes seconds), and no
    real answer nests deeper than `MAX_NESTING_DEPTH`.
    """
    if len(extraction.text) > MAX_ANSWER_CHARS:
        message = f"Expected an answer of at most {MAX_ANSWER_CHARS} characters, got {len(extraction.text)}"
    elif (depth := nesting_depth(extraction.text)) > MAX_NESTING_DEPTH:
        message = f"Expected brackets nested at most {MAX_NESTING_DEPTH} deep, got {depth}"
    else:
        return None
    clipped = Extraction(text=extraction.text[:200], form=extraction.form, start=extraction.start)
    return verdict(False, clipped, completion, message=message)
