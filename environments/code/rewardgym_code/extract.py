"""Finding the program in a completion: the last fenced block of the language, else the last fenced block of any
language, else the whole text.

Fences follow CommonMark: a line of three or more backticks or tildes (indented at most three spaces) opens a
block, the info string's first word names the language, a line of the same character at least as long closes it,
and an unclosed block runs to the end of the text. One pass over the lines, no backtracking regexes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Origin = Literal["fence", "any_fence", "text"]

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")


@dataclass(frozen=True)
class Program:
    source: str
    origin: Origin
    """`fence`: a block tagged with the language; `any_fence`: the last block of any tag; `text`: no block."""
    tag: str = ""
    """The fence's language tag, lower-cased ('' for an untagged block or the whole text)."""


@dataclass(frozen=True)
class _Block:
    tag: str
    source: str


def fenced_blocks(text: str) -> list[_Block]:
    """Every fenced code block of `text`, in order."""
    blocks: list[_Block] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        opening = _FENCE.fullmatch(lines[index])
        index += 1
        if opening is None or (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            continue
        fence, words = opening.group(1), opening.group(2).split()
        body: list[str] = []
        while index < len(lines):
            line = lines[index]
            index += 1
            if _closes(line, fence):
                break
            body.append(line)
        blocks.append(_Block(words[0].lower() if words else "", "\n".join(body)))
    return blocks


def _closes(line: str, fence: str) -> bool:
    """A closing fence: at most three spaces, at least as many of the opening character, then only spaces."""
    stripped = line.rstrip(" \t\r")
    run = stripped.lstrip(" ")
    if len(stripped) - len(run) > 3 or len(run) < len(fence):
        return False
    return run == fence[0] * len(run)


def extract_program(completion: str, tags: frozenset[str]) -> Program | None:
    """The program of `completion` for a language known by `tags` (e.g. {'python', 'py'}); None when there is
    nothing but whitespace to run."""
    blocks = fenced_blocks(completion)
    tagged = [block for block in blocks if block.tag in tags]
    if tagged:
        program = Program(tagged[-1].source, "fence", tagged[-1].tag)
    elif blocks:
        program = Program(blocks[-1].source, "any_fence", blocks[-1].tag)
    else:
        program = Program(_strip_blank_lines(completion), "text")
    return program if program.source.strip() else None


def _strip_blank_lines(text: str) -> str:
    """Leading and trailing blank lines go; indentation stays (a function body may continue a prompt)."""
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)
