"""The math family behind a real gateway: pathological input, concurrency, and honest results."""

import concurrent.futures
import time

import httpx
import importlib

import pytest

importlib.import_module("rewardgym_math")  # in this repository: missing must fail, never skip

DEADLINE_S = 3.0


def score(http: httpx.Client, completion: str, answer: str = "2", **extra) -> httpx.Response:
    return http.post("/score/math", json={"completion": completion, "task": {"answer": answer},
                                          "timeout_s": DEADLINE_S, **extra})


@pytest.mark.parametrize("name, completion", [
    ("power tower", r"\boxed{9^{9^{9^{9^9}}}}"),
    ("1 MB completion", "blah " * 200_000 + r"\boxed{3}"),
    ("10,000 nested braces", r"\boxed{" + "{" * 10_000 + "2" + "}" * 10_000 + "}"),
    ("NUL bytes", "\x00\x00\\boxed{2\x00}\x00"),
    ("unclosed boxed", r"\boxed{\frac{1}{" * 1000),
    ("huge factorial", r"\boxed{(10^{10})!}"),
])
def test_pathological_input_is_bounded_and_the_server_keeps_serving(math_server, name, completion):
    with math_server.client() as http:
        started = time.monotonic()
        answer = score(http, completion)
        elapsed = time.monotonic() - started
        assert elapsed < DEADLINE_S + 1.0, f"{name} took {elapsed:.1f} s"
        if answer.status_code == 200:
            result = answer.json()
            assert result["status"] in ("timeout", "no_answer", "ok"), result
            assert (result["reward"] is None) == (result["status"] == "timeout")
        else:
            assert 400 <= answer.status_code < 500
        assert score(http, r"\boxed{2}").json()["reward"] == 1.0


def test_unparseable_gold_is_invalid_task_not_zero(math_server):
    with math_server.client() as http:
        single = score(http, r"\boxed{2}", answer=r"\frac{")
        assert single.status_code == 422 and "Invalid task" in single.json()["detail"]
        batch = http.post("/score/math", json={"items": [
            {"completion": r"\boxed{2}", "task": {"answer": r"\frac{"}},
            {"completion": r"\boxed{2}", "task": {"answer": "2"}},
        ]}).json()["results"]
        assert [(r["status"], r["reward"]) for r in batch] == [("invalid_task", None), ("ok", 1.0)]


def test_32_concurrent_clients_get_the_sequential_answers(math_server):
    completions = [r"\boxed{\frac{1}{2}}", r"\boxed{0.5}", r"\boxed{2}", "no answer here", r"\boxed{1/2}",
                   r"<think>ok</think>\boxed{\dfrac12}", r"The answer is \boxed{x=0.5}", r"\boxed{50\%}"]
    requests = [(completions[n % len(completions)], r"\frac{1}{2}" if n % 3 else "2") for n in range(50)]

    def key(result: dict) -> tuple:
        return result["status"], result["reward"], result["components"], result["details"].get("extracted")

    with math_server.client() as http:
        sequential = [key(score(http, c, a).json()) for c, a in requests]

    def client(offset: int) -> list[tuple]:
        with math_server.client() as http:
            order = requests[offset:] + requests[:offset]
            answers = [key(score(http, c, a).json()) for c, a in order]
            return answers[-offset:] + answers[:-offset] if offset else answers

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        for answers in pool.map(client, range(32)):
            assert answers == sequential
