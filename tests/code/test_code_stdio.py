"""The stdin/stdout environments against the real sandbox (the pool's local fallback: no Docker needed)."""

from __future__ import annotations

import pytest
from code_support import executed, fenced, score

from rewardgym.protocol import Status
from rewardgym.sdk import InvalidTask
from rewardgym_code.c_stdio import CStdioEnv
from rewardgym_code.cpp_stdio import CppStdioEnv
from rewardgym_code.javascript_stdio import JavascriptStdioEnv
from rewardgym_code.python_stdio import PythonStdioEnv

PY, CPP, C, JS = PythonStdioEnv(), CppStdioEnv(), CStdioEnv(), JavascriptStdioEnv()
DOUBLE = {"tests": [{"input": "21\n", "output": "42\n"}, {"input": "-4\n", "output": "-8"},
                    {"input": "0\n", "output": "0"}]}
FAST = {**DOUBLE, "time_limit_s": 0.5}

CORRECT = {
    PY: fenced("python", "print(int(input()) * 2)"),
    CPP: fenced("cpp", "#include <iostream>\nint main() { long long x; std::cin >> x; std::cout << 2 * x << '\\n'; }"),
    C: fenced("c", "#include <stdio.h>\nint main(void) { long long x; scanf(\"%lld\", &x); printf(\"%lld\\n\", 2 * x); }"),
    JS: fenced("js", "const x = Number(require('fs').readFileSync(0, 'utf8').trim());\nconsole.log(2 * x);"),
}
WRONG = {
    PY: fenced("python", "print(int(input()) + 2)"),
    CPP: fenced("cpp", "#include <iostream>\nint main() { long long x; std::cin >> x; std::cout << x * x; }"),
    C: fenced("c", "#include <stdio.h>\nint main(void) { puts(\"0\"); }"),
    JS: fenced("js", "console.log(0);"),
}
# (env, verdict, program, extra task fields): every failure scores 0 with status ok.
FAILURES = [
    (PY, "TLE", "while True:\n    pass", {}),
    (PY, "RE", "print(1 // 0)", {}),
    (PY, "MLE", "blob = bytearray(600 * 1024 * 1024)\nprint(len(blob))", {"memory_limit_mb": 64}),
    (PY, "OLE", "import sys\nsys.stdout.write('x' * (3 << 20))", {}),
    (PY, "CE", "def broken(:\n    pass", {}),
    (CPP, "CE", "int main() { return undeclared; }", {}),
    (CPP, "RE", "#include <cstdlib>\nint main() { std::abort(); }", {}),
    (CPP, "TLE", "int main() { volatile unsigned long long i = 0; for (;;) ++i; }", {}),
    (CPP, "MLE", "#include <vector>\n#include <cstdio>\nint main() { std::vector<char> v(900u << 20, 1); "
                 "std::printf(\"%d\", (int)v[12345]); }", {"memory_limit_mb": 64}),
    (C, "CE", "int main(void) { return undeclared; }", {}),
    (C, "RE", "int main(void) { int *p = 0; return *p; }", {}),
    (JS, "RE", "throw new Error('boom');", {}),
    (JS, "TLE", "for (;;) {}", {}),
]
TAGS = {PY: "python", CPP: "cpp", C: "c", JS: "javascript"}


@pytest.mark.parametrize("env", [PY, CPP, C, JS], ids=lambda env: env.name)
def test_correct_passes_and_wrong_fails(env):
    good = score(env, DOUBLE, CORRECT[env])
    assert (good.reward, good.status, good.details["verdict"]) == (1.0, Status.OK, "AC"), good.details
    assert good.details["passed"] == good.details["total"] == 3
    assert [t["verdict"] for t in good.details["tests"]] == ["AC"] * 3
    assert all(t["cpu_ms"] >= 0 and t["wall_ms"] >= 0 for t in good.details["tests"])
    bad = score(env, DOUBLE, WRONG[env])
    assert (bad.reward, bad.status, bad.details["verdict"]) == (0.0, Status.OK, "WA"), bad.details
    failure = bad.details["first_failure"]
    assert failure["test"] == 0 and failure["expected"] == "42\n" and failure["message"].startswith("token 1")


@pytest.mark.parametrize(("env", "verdict", "program", "extra"), FAILURES,
                         ids=[f"{env.name}-{verdict}" for env, verdict, _, _ in FAILURES])
def test_failing_programs_score_zero_with_the_verdict(env, verdict, program, extra):
    result = score(env, {**FAST, **extra}, fenced(TAGS[env], program))
    assert (result.reward, result.status) == (0.0, Status.OK)
    assert result.details["verdict"] == verdict, result.details
    if verdict == "CE":
        assert result.details["compile_message"] and result.details["tests"] == []
    else:  # binary reward: stop at the first failure
        assert len(result.details["tests"]) == 1 and result.details["first_failure"]["verdict"] == verdict


def test_compile_error_message_is_the_compilers():
    result = score(CPP, DOUBLE, fenced("cpp", "int main() { return undeclared; }"))
    assert "undeclared" in result.details["compile_message"]
    python = score(PY, DOUBLE, fenced("python", "def broken(:\n    pass"))
    assert "SyntaxError" in python.details["compile_message"]


def test_a_runtime_syntax_error_is_re_not_ce():
    result = score(PY, DOUBLE, fenced("python", "compile('(', 'x', 'exec')"))
    assert result.details["verdict"] == "RE"
    assert "SyntaxError" in result.details["first_failure"]["stderr"]


PARTIAL_PROGRAM = fenced("python", "x = int(input())\nprint(2 * x if x > 0 else 7)")  # passes only test 0


def test_partial_credit_is_the_fraction_passed():
    result = score(PY, {**DOUBLE, "partial": True}, PARTIAL_PROGRAM)
    assert result.reward == pytest.approx(1 / 3)
    assert result.components == {"all_passed": 0.0, "pass_rate": pytest.approx(1 / 3)}
    assert [t["verdict"] for t in result.details["tests"]] == ["AC", "WA", "WA"]
    assert result.details["first_failure"]["test"] == 1
    assert score(PY, DOUBLE, PARTIAL_PROGRAM).reward == 0.0
    full = score(PY, {**DOUBLE, "partial": True}, CORRECT[PY])
    assert full.reward == 1.0 and full.components == {"all_passed": 1.0, "pass_rate": 1.0}


def test_partial_credit_runs_every_test_past_a_timeout():
    program = fenced("python", "x = int(input())\nwhile x < 0:\n    pass\nprint(2 * x)")
    result = score(PY, {**FAST, "partial": True}, program)
    assert [t["verdict"] for t in result.details["tests"]] == ["AC", "TLE", "AC"]
    assert result.reward == pytest.approx(2 / 3)
    assert score(PY, FAST, program).details["tests"][-1]["verdict"] == "TLE"  # binary: stops there


def test_partial_credit_after_a_compile_error_is_zero():
    result = score(CPP, {**DOUBLE, "partial": True}, fenced("cpp", "int main( {"))
    assert (result.reward, result.details["verdict"], result.components["pass_rate"]) == (0.0, "CE", 0.0)


@pytest.mark.parametrize("completion", ["", "  \n ", "```python\n\n```"])
def test_no_program_is_no_answer(completion):
    result = score(PY, DOUBLE, completion)
    assert (result.reward, result.status) == (0.0, Status.NO_ANSWER)


def test_unfenced_text_is_run_as_the_program():
    result = score(PY, DOUBLE, "print(int(input()) * 2)\n")
    assert result.reward == 1.0 and result.details["extracted_from"] == "text"


@pytest.mark.parametrize(("comparator", "output", "program", "reward"), [
    ("tokens", "1 2\n3\n", "print('1\\n2 3')", 1.0),
    ("lines", "1 2\n3\n", "print('1 2   \\n3')", 1.0),
    ("lines", "1 2\n3\n", "print('1\\n2 3')", 0.0),
    ("exact", "1 2\n3\n", "print('1 2\\n3')", 1.0),
    ("exact", "1 2\n3\n", "print('1 2 \\n3')", 0.0),
    ("float", "0.3333333 2\n", "print(1 / 3, 2.0)", 1.0),
    ("float", "0.3334 2\n", "print(1 / 3, 2.0)", 0.0),
    ("tokens", "0.3333333 2\n", "print(1 / 3, 2.0)", 0.0),
])
def test_each_comparator_through_the_environment(comparator, output, program, reward):
    task = {"tests": [{"input": "", "output": output}], "comparator": comparator}
    assert score(PY, task, fenced("python", program)).reward == reward


def test_float_tolerance_is_per_task():
    task = {"tests": [{"output": "0.33"}], "comparator": "float", "float_tolerance": 1e-2}
    assert score(PY, task, fenced("python", "print(1 / 3)")).reward == 1.0


@pytest.mark.parametrize(("limits", "message"), [
    ({"time_limit_s": 11}, "Expected time_limit_s <= 10, got 11"),
    ({"memory_limit_mb": 4096}, "Expected memory_limit_mb <= 1024, got 4096"),
])
def test_limits_above_the_maxima_are_invalid_tasks(limits, message):
    with pytest.raises(InvalidTask, match=message):
        score(PY, {**DOUBLE, **limits}, CORRECT[PY])
    status, payload = executed(PY, {**DOUBLE, **limits}, CORRECT[PY])
    assert status == Status.INVALID_TASK and message in payload["message"]


def test_raised_limits_within_the_maxima_are_used():
    program = fenced("python", "blob = bytearray(300 * 1024 * 1024)\nprint(2 * int(input()))")
    assert score(PY, DOUBLE, program).details["verdict"] == "MLE"
    assert score(PY, {**DOUBLE, "memory_limit_mb": 512}, program).reward == 1.0


def test_a_malformed_task_is_invalid_through_the_worker():
    status, _ = executed(PY, {"tests": []}, CORRECT[PY])
    assert status == Status.INVALID_TASK
    status, _ = executed(PY, {"tests": [{"input": "1"}]}, CORRECT[PY])  # no expected output
    assert status == Status.INVALID_TASK
