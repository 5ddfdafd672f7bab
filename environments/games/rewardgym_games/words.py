"""The word lists shipped with the family (rewardgym_games/data/), read once per process."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def word_list(name: str) -> tuple[str, ...]:
    """The words of data/<name>.txt in file order (comments and blank lines skipped), lower case."""
    text = files("rewardgym_games").joinpath("data", f"{name}.txt").read_text(encoding="ascii")
    words = tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    if not words or not all(word.isalpha() and word.islower() for word in words):
        raise ValueError(f"Expected lower-case words in data/{name}.txt, got {len(words)} entries with others")
    return words
