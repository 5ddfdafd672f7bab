"""Answer phrases ("the answer is", "A resposta é", "Die Antwort ist", ...) and the answer that follows one.

After the last answer phrase, the answer is the shortest well-formed answer, not the rest of the line:

- a math span that opens right after the phrase: `The final answer is $14{,}916$. I hope it is correct.` -> the
  span's content;
- otherwise the sentence (up to `. `, `!`, `?` or the line's end); when it opens with prose, what follows its last
  copula (`The largest $n$ is 34.` -> `34`), else its last math span or number (`Jane started 3 hours ago` -> `3`),
  unless the sentence holds a negation (`The answer is not 5.` states no number);
- then the leading math of that text, which stops at the first word that is not math:
  `42 because geometry proves it` -> `42`, `x = 5 or x = -3, so` -> `x = 5 or x = -3`.

A negated sentence with a number in it states no answer (`The answer is not 5.`); a prose sentence without math is
kept whole, as a verbal answer (`la opción C` for multiple choice, `no solution` for `equation`); `extract.py`
lets such an answer override an earlier box only when it names something (see `has_answer_content`).
Everything here scans a bounded window (`MAX_ANSWER_IS_CHARS`) once.
"""

from __future__ import annotations

import re

MAX_ANSWER_IS_CHARS = 300
"""How much text after an answer phrase is looked at: an answer, not the rest of an essay."""

def _label(word: str) -> str:
    """`Answer:` as a label: capitalized anywhere, or in any case at the start of a line (after markdown)."""
    capitalized = word[0].upper() + word[1:]
    return rf"(?-i:\b{capitalized})\s*\**\s*:|(?m:^)[ \t*#>_-]*{word}\s*\**\s*:"


_ANSWER_PHRASE = re.compile(
    r"(?i)"
    r"\banswer\s+(?:is|would\s+be|will\s+be)\b\s*:?|\bfinal\s+answer\s*\**\s*:"
    r"|\bresposta(?:\s+(?:final|correta|certa))?\s+(?:é|e)\b\s*:?|\bresposta\s+final\s*\**\s*:"
    r"|\brespuesta(?:\s+(?:final|correcta))?\s+es\b\s*:?|\brespuesta\s+final\s*\**\s*:"
    r"|\bréponse(?:\s+(?:finale|correcte))?\s+est\b\s*:?|\bréponse\s+finale\s*\**\s*:"
    r"|\bantwort\s+(?:ist|lautet)\b\s*:?|\b(?:endgültige|finale)\s+antwort\s*\**\s*:"
    + "".join("|" + _label(word) for word in ("answer", "resposta", "respuesta", "réponse", "antwort"))
)
_KEYWORDS = ("answer", "resposta", "respuesta", "réponse", "antwort")
_PHRASE_REACH = 40
"""How far an answer phrase reaches around its keyword (`final answer :`, markdown before `Answer:`)."""
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)} | {ord("\u00c9"): "\u00e9"}
_MATH_OPENERS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))
_COPULA = re.compile(
    r"(?i)(?:\s(?:is|are|was|equals|é|são|es|son|est|sont|ist|sind|lautet|beträgt)\s|\s?=\s?)"
)
_NEGATION = re.compile(
    r"(?i)\b(?:not|no|never|none|neither|não|nunca|nenhum|nenhuma|ningún|ninguna|ninguno|pas|jamais|aucun|aucune"
    r"|nicht|kein|keine|nie)\b|n't\b"
)
_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_INLINE_MATH = re.compile(r"\$([^$]+)\$")
_WORD = re.compile(r"[^\W\d_]+")
_MATH_WORDS = frozenset(
    "sqrt pi sin cos tan cot sec csc log ln exp arcsin arccos arctan sinh cosh tanh infty inf mod deg".split()
)
_CONNECTORS = frozenset("and or und oder et ou".split())
"""Words that join two answers (`x = 5 or x = -3`); one-letter ones (`y`, `e`) are read as math."""
_LEADING_DECORATION = " \t:*_"
_OPENING_QUOTES = ('\\"', '"', "\u201c", "``")
_SPAN_JOINER = re.compile(r"\s*(?:,\s*)?(?:and|or|und|oder|et|ou|y|e|,)\s*", re.IGNORECASE)


def last_answer_phrase(text: str) -> re.Match[str] | None:
    """The last answer phrase in `text`, in any of the supported languages.

    The phrase regex is tried only around occurrences of its keywords, found from the end with `str.rfind`:
    scanning a 1 MB completion with the full regex takes seconds, the keywords milliseconds.
    """
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = text.translate(_ASCII_LOWER)
    best: re.Match[str] | None = None
    for keyword in _KEYWORDS:
        end = len(lowered)
        while (at := lowered.rfind(keyword, 0, end)) != -1 and (best is None or at > best.start()):
            found = None
            for match in _ANSWER_PHRASE.finditer(text, max(0, at - _PHRASE_REACH), at + _PHRASE_REACH):
                if match.start() <= at < match.end():
                    found = match
            if found is not None:
                best = found if best is None or found.end() > best.end() else best
                break
            end = at
    return best


def answer_after(text: str, start: int) -> tuple[str, int]:
    """The answer written after an answer phrase that ends at `start`, and where it begins."""
    window = text[start : start + MAX_ANSWER_IS_CHARS]
    skipped = len(window) - len(window.lstrip(_LEADING_DECORATION))
    quote = next((q for q in _OPENING_QUOTES if window.startswith(q, skipped)), "")
    skipped += len(quote)
    window = window[skipped:]
    start += skipped
    spans = _joined_spans(window)
    if spans is not None:
        return spans[0], start + spans[1]
    sentence = window[: _sentence_end(window)]
    if _opens_with_prose(sentence):
        return _answer_in_prose(sentence, start)
    return leading_math(sentence), start


def _is_prose_word(word: str) -> bool:
    return len(word) > 1 and word.lower() not in _MATH_WORDS


def _opens_with_prose(sentence: str) -> bool:
    """A word that is not math opens the sentence, or a one-letter article before one (`a alternativa B`, `l'option`)."""
    first = _WORD.match(sentence)
    if first is None:
        return False
    if _is_prose_word(first.group(0)):
        return True
    second = _WORD.match(sentence, first.end() + 1)
    return (first.group(0).islower() and sentence[first.end() : first.end() + 1] in (" ", "'", "\u2019")
            and second is not None
            and _is_prose_word(second.group(0)))


def _joined_spans(text: str) -> tuple[str, int] | None:
    """Math spans at the start of `text` joined by `and` / `or` / commas (`$12$ and $13$` -> `12, 13`)."""
    first = _math_span_at(text, 0)
    if first is None:
        return None
    parts, position = [first[0]], first[2]
    while (joiner := _SPAN_JOINER.match(text, position)) is not None and joiner.end() > position:
        following = _math_span_at(text, joiner.end())
        if following is None:
            break
        parts.append(following[0])
        position = following[2]
    return ", ".join(part for part in parts if part), first[1]


def _math_span_at(text: str, at: int) -> tuple[str, int, int] | None:
    """(content, content start, end after the closer) of the math span opening at `at`, if one does."""
    for opener, closer in _MATH_OPENERS:
        if text.startswith(opener, at):
            close = text.find(closer, at + len(opener))
            if close != -1:
                return text[at + len(opener) : close].strip(), at + len(opener), close + len(closer)
            return None
    return None


def _sentence_end(text: str) -> int:
    """Index of the first sentence end (`. `, `!`, `?`, a newline) outside `$...$`, or the length of `text`."""
    in_math = False
    for index, char in enumerate(text):
        if char == "$":
            in_math = not in_math
        elif char == "\n":
            return index
        elif not in_math and char in ".!?" and (index + 1 == len(text) or text[index + 1].isspace()):
            return index
    return len(text)


def _answer_in_prose(sentence: str, start: int) -> tuple[str, int]:
    prose = _INLINE_MATH.sub(lambda m: "#" * len(m.group(0)), sentence)  # copulas inside math do not count
    copulas = list(_COPULA.finditer(prose))
    if copulas:
        rest = sentence[copulas[-1].end() :]
        span = _math_span_at(rest.lstrip(), 0)
        if span is not None:
            return span[0], start
        found = leading_math(rest)
        if found:
            return found, start
    if _NEGATION.search(prose):  # "the answer is not 5" states no number; "no solution" is a verbal answer
        return ("", start) if _DIGIT.search(sentence) else (sentence.strip(), start)
    span = number = None
    for span in _INLINE_MATH.finditer(sentence):
        pass
    for number in _NUMBER.finditer(prose):
        pass
    if span is not None and (number is None or span.end() >= number.end()):
        return span.group(1).strip(), start
    if number is not None:
        return number.group(0), start
    return sentence.strip(), start  # `la opción B`, `no solution`: verbal answers, read by each environment


def leading_math(text: str) -> str:
    """The math that opens `text`, up to the first word that is not math (a connector only between math)."""
    end = index = 0
    n = len(text)
    while index < n:
        char = text[index]
        if char == "\\":
            word = _WORD.match(text, index + 1)
            index = word.end() if word else index + 2
            end = index
        elif char == "{":
            index = _skip_group(text, index)
            end = index
        elif char.isalpha():
            word = _WORD.match(text, index)
            lowered = word.group(0).lower() if word else char
            if _is_prose_word(lowered) and lowered not in _CONNECTORS:
                break
            index = word.end() if word else index + 1
            if lowered not in _CONNECTORS:
                end = index
        elif char in ".!?" and (index + 1 == n or text[index + 1].isspace()):
            break
        else:
            index += 1
            if not char.isspace():
                end = index
    return text[:end].strip().rstrip(",;:*_").strip()


def _skip_group(text: str, index: int) -> int:
    """The index after the `}` that closes the `{` at `index` (or the end of `text`)."""
    depth = 0
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return index
