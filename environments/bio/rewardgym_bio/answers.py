"""Answer formats shared by the bio family: where the answer is, and how sequences, numbers and lists are read.

The answer is the content of the last `<answer>...</answer>` or the last `\\boxed{...}`, whichever comes later in
the completion. Everything here runs in linear time on bounded text (extracted answers are capped at
`MAX_ANSWER_CHARS`), with regexes that have no nested quantifiers: a completion may be 1 MB long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MAX_ANSWER_CHARS = 100_000
"""Longer extracted answers are refused unread: the largest real answer (a designed gene, an alignment) is smaller."""

MAX_NUMBER_CHARS = 200
"""A number with its unit is short; more text than this is not one number."""

_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
_ANSWER_OPEN, _ANSWER_CLOSE = "<answer>", "</answer>"


@dataclass(frozen=True)
class Extraction:
    """The answer's text and where it was found (`answer_tag` or `boxed`)."""

    text: str
    form: Literal["answer_tag", "boxed"]


def _last_answer_tag(text: str) -> tuple[int, str] | None:
    """The last closed `<answer>...</answer>`: the last opening before the last closing, in linear scans.

    (Trying openings from the end and searching forward for a closing would be quadratic on a completion of
    many unclosed tags.)
    """
    last_close = text.rfind(_ANSWER_CLOSE)
    start = text.rfind(_ANSWER_OPEN, 0, last_close) if last_close != -1 else -1
    if start == -1:
        return None
    end = text.find(_ANSWER_CLOSE, start)  # its own closing tag: the first after it
    return start, text[start + len(_ANSWER_OPEN) : end]


def _last_boxed(text: str) -> tuple[int, str] | None:
    """The last `\\boxed{...}` whose brace closes; all braces matched in one pass with an explicit stack."""
    openings = [m.end() - 1 for m in _BOX.finditer(text)]
    if not openings:
        return None
    closing: dict[int, int] = {}
    stack: list[int] = []
    for index, char in enumerate(text):
        if char == "{":
            stack.append(index)
        elif char == "}" and stack:
            closing[stack.pop()] = index
    for brace in reversed(openings):
        if brace in closing:
            return brace, text[brace + 1 : closing[brace]]
    return None


def extract_answer(completion: str) -> Extraction | None:
    """The later of the last answer tag and the last box, stripped; None when neither holds any text."""
    tag, box = _last_answer_tag(completion), _last_boxed(completion)
    candidates = [(at, body, form) for found, form in ((tag, "answer_tag"), (box, "boxed")) if found
                  for at, body in [found]]
    if not candidates:
        return None
    _, body, form = max(candidates, key=lambda item: item[0])
    body = unwrap_latex(body).strip()
    return Extraction(text=body, form=form) if body else None  # type: ignore[arg-type]


_TEXT_WRAPPER = re.compile(r"\\(?:text|texttt|textbf|mathrm|mathtt|mathbf|textrm)\s*\{([^{}]*)\}")


def unwrap_latex(text: str) -> str:
    """Drop LaTeX and Markdown decoration around an answer: `\\text{}`, `$`, backticks, code fences, `**`."""
    for _ in range(3):
        text = _TEXT_WRAPPER.sub(r"\1", text)
    text = re.sub(r"```[A-Za-z]*", "", text)
    for noise in ("\\$", "$", "`", "**", "\\,", "\\;", "\\!", "\\ "):
        text = text.replace(noise, " " if noise.startswith("\\") and noise != "\\$" else "")
    return text


# Sequences -------------------------------------------------------------------------------------------------------

DNA = frozenset("ACGT")
RNA = frozenset("ACGU")
PROTEIN = frozenset("ACDEFGHIKLMNPQRSTVWY")

_PRIME_LABEL = re.compile(r"(?:5|3)\s*(?:'|′|’|prime)\s*-?|-?\s*(?:5|3)\s*(?:'|′|’|prime)")
_THREE_LETTER = re.compile(r"^(?:[A-Z][a-z]{2}[-\s]*)+$")
_THREE_TO_ONE = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G", "His": "H",
    "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W",
    "Tyr": "Y", "Val": "V", "Ter": "*",
}


def fasta_records(text: str) -> list[str]:
    """The bodies of the FASTA records in `text` (headers dropped); text without a `>` header is one record."""
    records: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.lstrip().startswith(">"):
            current = []
            records.append(current)
        elif current is None:
            current = [line]
            records.append(current)
        else:
            current.append(line)
    return ["\n".join(lines) for lines in records]


def clean_sequence(text: str, *, keep: str = "") -> str:
    """Upper-case letters of a sequence with FASTA headers, 5'/3' labels, whitespace, digits and `-` removed.

    Characters in `keep` (e.g. `-` for alignment rows, `*` for stops) survive.
    """
    text = "\n".join(fasta_records(text))
    text = _PRIME_LABEL.sub(" ", text)
    return "".join(char for char in text.upper() if char.isalpha() or char in keep)


def parse_sequence(text: str, alphabet: frozenset[str], *, keep: str = "") -> str | None:
    """One sequence over `alphabet` (plus `keep`), tolerant of layout; None when any other letter is present."""
    if len(text) > MAX_ANSWER_CHARS:
        return None
    if alphabet is PROTEIN and _THREE_LETTER.match(text.strip()):
        codes = re.findall(r"[A-Z][a-z]{2}", text)
        if all(code in _THREE_TO_ONE for code in codes):
            text = "".join(_THREE_TO_ONE[code] for code in codes)
    sequence = clean_sequence(text, keep=keep)
    if not sequence or any(char not in alphabet and char not in keep for char in sequence):
        return None
    return sequence


# Numbers ---------------------------------------------------------------------------------------------------------

Quantity = Literal["mass", "temperature", "fraction", "plain"]
"""mass: Da (kDa, g/mol accepted); temperature: °C; fraction: 0..1 (a percentage accepted); plain: no unit."""

_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-"})
_NUMBER = re.compile(
    r"(?<![\w.])(-?)\s*([1-9]\d{0,2}(?:,\d{3})+(?![\d,])|[1-9]\d{0,2}(?:[ \u2009\u202f]\d{3})+(?!\d)|\d+)"
    r"(?:([.,])(\d+))?(?:\s*(?:[eE]|[x×]\s*10\s*\^?)\s*\{?([+-]?\d+)\}?)?")
_UNITS: dict[Quantity, tuple[tuple[str, float], ...]] = {
    "mass": (("kda", 1000.0), ("kilodalton", 1000.0), ("da", 1.0), ("dalton", 1.0), ("g/mol", 1.0)),
    "temperature": (("°c", 1.0), ("℃", 1.0), ("degc", 1.0), ("degrees", 1.0), ("degreesc", 1.0), ("celsius", 1.0),
                    ("degreescelsius", 1.0), ("°celsius", 1.0), ("c", 1.0)),
    "fraction": (("%", 0.01), ("percent", 0.01)),
    "plain": (),
}


def parse_number(text: str, quantity: Quantity = "plain") -> float | None:
    """The one number in an answer like `12,345.6 Da`, `12.3 kDa`, `61.2 °C`, `52.5%`, `7.25`; else None.

    A comma followed by exactly three digits groups thousands (`1,234` is 1234, `0,523` is not); any other
    comma is a decimal comma (`0,52`). A unit that does not belong to `quantity` makes the answer unreadable
    rather than guessed.
    For `fraction`, a bare number above 1 is read as a percentage.
    """
    if len(text) > MAX_NUMBER_CHARS:
        return None
    text = text.translate(_MINUS).replace("{,}", ",").replace("^\\circ", "°").replace("^{\\circ}", "°")
    text = text.replace("\\%", "%").replace("\\degree", "°").replace("\\times", "×").replace("\\cdot", "×")
    text = re.sub(r"(?i)^\s*(?:about|approximately|approx\.?|~|≈|=)\s*", "", text).strip().rstrip(".")
    matches = list(_NUMBER.finditer(text))
    if len(matches) != 1:
        return None
    match = matches[0]
    sign, whole, separator, fraction, exponent = match.groups()
    digits = re.sub(r"[, \u2009\u202f]", "", whole) + (f".{fraction}" if fraction else "")
    value = float(digits) * (10 ** int(exponent) if exponent else 1)
    value = -value if sign else value
    rest = (text[: match.start()] + " " + text[match.end() :]).strip().lower().replace(" ", "")
    if not rest:
        return value / 100 if quantity == "fraction" and value > 1 else value
    for unit, factor in _UNITS[quantity]:
        if rest == unit:
            return value * factor
    return None


# Integers and lists ----------------------------------------------------------------------------------------------

MAX_LIST_INTEGER_DIGITS = 12
"""No position or length has more digits; Python refuses to convert very long digit strings anyway."""
_INTEGER = re.compile(r"-?\s*(?:\d{1,3}(?:,\d{3})+|\d+)")
_NONE_WORDS = frozenset({"none", "no cuts", "no sites", "empty", "[]", "{}", "{ }", "∅", "\\emptyset", "nothing"})


def parse_int_list(text: str) -> list[int] | None:
    """Integers separated by commas, semicolons or whitespace (`[12, 40, 97]`); `none` is the empty list.

    Thousands separators are not read inside lists (write 1234, not 1,234); text other than integers, brackets
    and separators makes the answer unreadable.
    """
    stripped = text.strip().strip(".").strip()
    if stripped.lower() in _NONE_WORDS:
        return []
    if len(stripped) > MAX_ANSWER_CHARS or re.search(r"[^\d\s,;\[\](){}]", stripped):
        return None
    tokens = re.findall(r"\d+", stripped)
    if not tokens or any(len(token) > MAX_LIST_INTEGER_DIGITS for token in tokens):
        return None
    return [int(token) for token in tokens]


def parse_int(text: str) -> int | None:
    """One integer (a sign and thousands separators allowed): `-42`, `1,234`; None for anything else."""
    if len(text) > MAX_NUMBER_CHARS:
        return None
    match = _INTEGER.fullmatch(text.translate(_MINUS).strip().rstrip("."))
    return int(re.sub(r"[\s,]", "", match.group(0))) if match else None


def normalise_words(text: str) -> str:
    """Lower-case words separated by single spaces, without surrounding quotes or a final period."""
    return " ".join(text.strip().strip("\"'").rstrip(".").lower().split())
