"""Answer extraction of the puzzles family: <answer> tags first, then \\boxed{}, linear time."""

from __future__ import annotations

import time

from rewardgym_puzzles.extract import Answer, extract_answer


def test_last_closed_answer_tag_wins() -> None:
    text = "<answer>1</answer> then <answer> 2 \n</answer> and <answer>3"
    assert extract_answer(text) == Answer(text="2", form="answer_tag")


def test_answer_tag_before_boxed() -> None:
    assert extract_answer("\\boxed{5} <answer>7</answer>") == Answer(text="7", form="answer_tag")


def test_boxed_with_nested_and_escaped_braces() -> None:
    assert extract_answer("so \\boxed{\\{1, {2}\\}} done") == Answer(text="\\{1, {2}\\}", form="boxed")
    assert extract_answer("\\boxed{unclosed") is None


def test_empty_answers_are_no_answer() -> None:
    assert extract_answer("no tags at all") is None
    assert extract_answer("<answer>   </answer>") is None
    assert extract_answer("<answer></answer> \\boxed{4}") == Answer(text="4", form="boxed")


def test_multiline_answer_keeps_inner_layout() -> None:
    assert extract_answer("<answer>\n1 2\n3 4\n</answer>").text == "1 2\n3 4"


def test_pathological_input_is_linear() -> None:
    started = time.perf_counter()
    extract_answer("\\boxed{" * 50_000 + "<answer>" * 50_000)
    extract_answer("{" * 200_000 + "\\boxed{x")
    assert time.perf_counter() - started < 2.0
