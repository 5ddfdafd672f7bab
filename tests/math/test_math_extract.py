"""Extraction: the forms, and pathological input (1 MB, 10,000 nested braces, NUL bytes) handled in linear time."""

from __future__ import annotations

import time

import pytest

from rewardgym.protocol import Status
from rewardgym_math import FAMILY
from rewardgym_math.extract import extract_answer, format_score, last_answer_is, last_answer_tag, last_boxed, match_braces

FAST_S = 1.0


def timed(func, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = func(*args)
    elapsed = time.perf_counter() - start
    assert elapsed < FAST_S, f"{func.__name__} took {elapsed:.2f}s"
    return result


def test_last_boxed_matches_nested_and_escaped_braces() -> None:
    assert last_boxed("\\boxed{1} then \\boxed{\\frac{1}{2}}").text == "\\frac{1}{2}"
    assert last_boxed("\\boxed{\\{1, 2\\}}").text == "\\{1, 2\\}"
    assert last_boxed("\\fbox{7}").text == "7"
    assert last_boxed("\\boxed {3}").text == "3"
    assert last_boxed("\\boxed{2} and an unclosed \\boxed{3").text == "2"
    assert last_boxed("no box") is None


def test_answer_tag_and_answer_is() -> None:
    assert last_answer_tag("<answer> 42 </answer>").text == "42"
    assert last_answer_tag("<answer>1</answer><answer>2</answer>").text == "2"
    assert last_answer_tag("<answer>open") is None
    assert last_answer_is("So the answer is 42.\nDone").text == "42"
    assert last_answer_is("Final Answer: $\\frac12$").text == "\\frac12"
    assert last_answer_is("The answer is **C**.").text == "C"


def test_the_answer_stated_last_wins_among_the_accepted_forms() -> None:
    completion = "<answer>1</answer> \\boxed{2} the answer is 3"
    assert extract_answer(completion, ("boxed", "answer_tag")).text == "2"
    assert extract_answer(completion, ("answer_tag", "boxed")).text == "2"
    assert extract_answer(completion, ("answer_tag",)).text == "1"
    assert extract_answer(completion, ("answer_is",)).text == "3"
    assert extract_answer(completion).text == "3"
    assert extract_answer("The answer is $\\boxed{4}$.").form == "boxed"
    assert extract_answer("nothing here", ("boxed", "answer_tag", "answer_is")) is None
    with pytest.raises(ValueError, match="Expected an answer form"):
        extract_answer("x", ("bogus",))  # type: ignore[arg-type]


def test_format_requires_one_think_block_before_the_answer() -> None:
    good = "<think>work</think> \\boxed{1}"
    assert format_score(good, good.index("1}")) == 1.0
    after = "\\boxed{1} <think>work</think>"
    assert format_score(after, after.index("1}")) == 0.0
    twice = "<think>a</think><think>b</think> \\boxed{1}"
    assert format_score(twice, twice.index("1}")) == 0.0
    unclosed = "<think>work \\boxed{1}"
    assert format_score(unclosed, unclosed.index("1}")) == 0.0


def test_ten_thousand_nested_braces() -> None:
    nested = "\\boxed{" + "{" * 10_000 + "1" + "}" * 10_000 + "}"
    found = timed(last_boxed, nested)
    assert found.text.startswith("{{") and len(found.text) == 20_001
    unbalanced = "\\boxed{" * 10_000 + "{" * 10_000
    assert timed(last_boxed, unbalanced) is None
    assert len(timed(match_braces, "{" * 50_000 + "}" * 50_000)) == 50_000


def test_one_megabyte_completion() -> None:
    big = "x" * 1_000_000
    assert timed(extract_answer, big) is None
    many_boxes = "\\boxed{" * 150_000  # ~1 MB of unclosed boxes
    assert timed(extract_answer, many_boxes) is None
    answer_words = "the answer " * 100_000 + "is 5"
    assert timed(extract_answer, answer_words).text == "5"
    tags = "<answer>" * 120_000 + "</answer>"
    assert timed(last_answer_tag, tags) is not None
    spaces = "answer" + " " * 1_000_000
    assert timed(extract_answer, spaces) is None


def test_nul_bytes() -> None:
    assert timed(extract_answer, "\x00" * 1000 + "\\boxed{4\x00}").text == "4\x00"
    assert timed(extract_answer, "\x00" * 1_000_000) is None


PATHOLOGICAL = [
    "x" * 1_000_000,
    "\\boxed{" + "{" * 10_000 + "1" + "}" * 10_000 + "}",
    "\\boxed{" + "{" * 500 + "1" + "}" * 500 + "}",
    "\\boxed{" + "(" * 300 + "1" + ")" * 300 + "}",
    "<answer>" + "(" * 150 + "1" + ")" * 150 + "</answer>",
    "\x00\\boxed{\x00}\x00",
    "The answer is \x00\x00.",
]


@pytest.mark.parametrize("env", sorted(FAMILY.instantiate().values(), key=lambda e: e.name), ids=lambda e: e.name)
def test_every_env_survives_pathological_completions(env) -> None:  # type: ignore[no-untyped-def]
    task = env.examples()[0].task
    for completion in PATHOLOGICAL:
        start = time.perf_counter()
        score = env.score(task, completion)
        assert time.perf_counter() - start < 5.0
        assert score.status in (Status.OK, Status.NO_ANSWER)
        assert score.reward == 0.0
