"""The bio family's answer formats, table-driven: where the answer is, and how sequences, numbers, lists are read."""

from __future__ import annotations

import pytest

from rewardgym_bio.answers import DNA, PROTEIN, RNA, extract_answer, parse_int, parse_int_list, parse_number, \
    parse_sequence

EXTRACTION = [
    ("<answer>ACGT</answer>", "ACGT", "answer_tag"),
    ("text \\boxed{ACGT} more", "ACGT", "boxed"),
    ("<answer>AAA</answer> then \\boxed{CCC}", "CCC", "boxed"),  # the later of the two wins
    ("\\boxed{CCC} then <answer>AAA</answer>", "AAA", "answer_tag"),
    ("<answer>first</answer> <answer>second</answer>", "second", "answer_tag"),
    ("\\boxed{\\text{61.2 °C}}", "61.2 °C", "boxed"),
    ("\\boxed{a{b}c}", "a{b}c", "boxed"),
    ("\\boxed{ok} \\boxed{unclosed", "ok", "boxed"),
    ("<answer>`ACGT`</answer>", "ACGT", "answer_tag"),
    ("<answer>**ACGT**</answer>", "ACGT", "answer_tag"),
    ("<answer>A <answer>B</answer>", "B", "answer_tag"),
    ("<answer>A</answer> <answer>B", "A", "answer_tag"),
    ("<answer>A</answer> </answer>", "A", "answer_tag"),
    ("<answer>ACGT</answer>" + "<answer>" * 50_000, "ACGT", "answer_tag"),  # linear, not one scan per tag
]


@pytest.mark.parametrize(("completion", "text", "form"), EXTRACTION)
def test_extraction(completion: str, text: str, form: str) -> None:
    found = extract_answer(completion)
    assert found is not None and (found.text, found.form) == (text, form)


@pytest.mark.parametrize("completion", ["", "I don't know", "<answer></answer>", "\\boxed{}", "<answer>open",
                                        "\\boxed{" * 10_000, "}" * 10_000])
def test_nothing_to_extract(completion: str) -> None:
    assert extract_answer(completion) is None


SEQUENCES = [
    ("ACGT", DNA, "ACGT"),
    ("acgt", DNA, "ACGT"),
    ("AC GT\nTT\tAA", DNA, "ACGTTTAA"),
    (">seq1 my answer\nACGT\nACGT", DNA, "ACGTACGT"),
    ("5'-ACGTAC-3'", DNA, "ACGTAC"),
    ("5′ ACGT 3′", DNA, "ACGT"),
    ("        1 acgtacgtac gtacgtacgt\n       21 ac", DNA, "ACGTACGTACGTACGTACGTAC"),
    ("```fasta\n>x\nACGU\n```", RNA, "ACGU"),
    ("MKTAYIAKQR", PROTEIN, "MKTAYIAKQR"),
    ("Met-Lys-Thr", PROTEIN, "MKT"),
    ("Met Lys Thr", PROTEIN, "MKT"),
    ("ACGTN", DNA, None),
    ("ACGU", DNA, None),
    ("the sequence is ACGT", DNA, None),
    ("", DNA, None),
    ("12345", DNA, None),
]


@pytest.mark.parametrize(("text", "alphabet", "expected"), SEQUENCES)
def test_sequences(text: str, alphabet: frozenset[str], expected: str | None) -> None:
    assert parse_sequence(extract_answer(f"<answer>{text}</answer>").text if text.strip() else text,
                          alphabet) == expected


NUMBERS = [
    ("12345.6", "mass", 12345.6),
    ("12,345.6 Da", "mass", 12345.6),
    ("12 345.6 Da", "mass", 12345.6),
    ("12.3456 kDa", "mass", 12345.6),
    ("12345.6 g/mol", "mass", 12345.6),
    ("1.23456e4 Da", "mass", 12345.6),
    ("1.23456 \\times 10^{4} Da", "mass", 12345.6),
    ("61.2 °C", "temperature", 61.2),
    ("61.2°C", "temperature", 61.2),
    ("61.2 ℃", "temperature", 61.2),
    ("61.2 C", "temperature", 61.2),
    ("61.2^\\circ C", "temperature", 61.2),
    ("61.2 degrees", "temperature", 61.2),
    ("−3.5", "plain", -3.5),
    ("0.523", "fraction", 0.523),
    ("52.3%", "fraction", 0.523),
    ("52.3 \\%", "fraction", 0.523),
    ("52.3", "fraction", 0.523),
    ("0,523", "fraction", 0.523),
    ("about 7.25", "plain", 7.25),
    ("7.25.", "plain", 7.25),
    ("61.2 K", "temperature", None),
    ("12 kg", "mass", None),
    ("1 or 2", "plain", None),
    ("seven", "plain", None),
    ("52.3 Da", "fraction", None),
]


@pytest.mark.parametrize(("text", "quantity", "expected"), NUMBERS)
def test_numbers(text: str, quantity: str, expected: float | None) -> None:
    value = parse_number(text, quantity)  # type: ignore[arg-type]
    assert value == pytest.approx(expected) if expected is not None else value is None


@pytest.mark.parametrize(("text", "expected"), [
    ("12, 40, 97", [12, 40, 97]), ("[12, 40, 97]", [12, 40, 97]), ("12 40\n97", [12, 40, 97]),
    ("12;40;97", [12, 40, 97]), ("none", []), ("None.", []), ("[]", []), ("12, forty", None), ("", None),
    ("1.5, 2", None),
])
def test_int_lists(text: str, expected: list[int] | None) -> None:
    assert parse_int_list(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("42", 42), ("-42", -42), ("−42", -42), ("1,234", 1234), ("42.", 42), ("42.5", None), ("4 2", None),
    ("forty", None),
])
def test_ints(text: str, expected: int | None) -> None:
    assert parse_int(text) == expected
