"""What the soak sends: normal items with known verdicts, hostile items, and malformed requests."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

ITEM_DEADLINE_S = 10.0
"""Each request's `timeout_s`: code environments default to 60 s, which would make a looping program too cheap."""


@dataclass(frozen=True)
class SoakItem:
    env: str
    task: dict[str, Any]
    completion: str
    label: str
    expected: tuple[str, float] | None = None  # (status, reward) on the quiet server; None for hostile items

    def body(self, item_id: str) -> dict[str, Any]:
        return {"id": item_id, "task": self.task, "completion": self.completion}

    def with_expected(self, status: str, reward: float) -> "SoakItem":
        return replace(self, expected=(status, reward))


def _fenced(language: str, code: str) -> str:
    return f"```{language}\n{code}\n```"


def _wrong_answer(env: dict[str, Any]) -> str:
    if env["family"] == "code":
        language = {"sql": "sql", "python_function": "python"}.get(env["name"], env["name"].split("_")[0])
        return _fenced(language, {"sql": "SELECT 1;", "python_function": "def add(a, b):\n    return a - b"}
                       .get(env["name"], "print(0)" if language == "python" else "int main(){return 0;}"))
    if env["kind"] == "multi":
        return json.dumps(["not a move"] * 3)
    return "The answer is \\boxed{-987654321}."


def normal_items(catalogue: list[dict[str, Any]]) -> list[SoakItem]:
    """Per environment: its example (a right answer), a wrong answer, and an empty completion."""
    items = []
    for env in catalogue:
        example = env["example"]
        for label, completion in (("right", example["completion"]), ("wrong", _wrong_answer(env)), ("empty", "")):
            items.append(SoakItem(env["name"], example["task"], completion, f"{env['name']}:{label}"))
    return items


_HOSTILE_MATH = [
    "\\boxed{9^{9^{9^{9^{9^{9}}}}}}",
    "\\boxed{10^{10^{10^{10^{10}}}}!}",
    "\\boxed{" + "(" * 2000 + "1" + ")" * 2000 + "}",
    "\\boxed{\\int_0^{10^{100}} e^{x^{x^{x}}} dx}",
    "\\boxed{" + "1+" * 20000 + "1}",
]
_HOSTILE_PYTHON = [
    "while True:\n    pass",
    "import os\nwhile True:\n    os.fork()",
    "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)",
    "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))",
    "import subprocess\nsubprocess.run(['sleep', '100'])",
]
_HOSTILE_C = [
    "int main(){for(;;){}}",
    "#include <unistd.h>\nint main(){for(;;) fork();}",
    "#include <stdlib.h>\n#include <string.h>\nint main(){for(;;){char*p=malloc(1<<26); if(p) memset(p,1,1<<26);}}",
]


def hostile_items(catalogue: list[dict[str, Any]]) -> list[SoakItem]:
    """Items that try to hang, exhaust or crash the scorer; their reward must be 0 or null."""
    items = []
    for env in catalogue:
        task, name = env["example"]["task"], env["name"]
        if env["family"] == "math":
            completions = _HOSTILE_MATH
        elif name in ("python_stdio", "python_function"):
            completions = [_fenced("python", code) for code in _HOSTILE_PYTHON]
        elif name in ("c_stdio", "cpp_stdio"):
            completions = [_fenced(name.split("_")[0], code) for code in _HOSTILE_C]
        elif name == "javascript_stdio":
            completions = [_fenced("javascript", "while (true) {}"),
                           _fenced("javascript", "const a = []; while (true) a.push(new Array(1e6).fill(1));")]
        elif name == "sql":
            completions = [_fenced("sql", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
                                          "SELECT COUNT(*) FROM r;")]
        elif env["kind"] == "multi":
            completions = [json.dumps(["up"] * 20000), "[" * 5000 + "]" * 5000]
        else:
            continue
        items.extend(SoakItem(name, task, completion, f"{name}:hostile{n}") for n, completion in enumerate(completions))
    return items


def malformed_requests(max_body_bytes: int) -> list[tuple[str, bytes, int]]:
    """(path, body, expected status): broken JSON, missing fields, oversize, unknown environment."""
    return [
        ("/score/gsm8k", b'{"items": [', 422),
        ("/score/gsm8k", b'{"items": [{"task": {"answer": "1"}}]}', 422),
        ("/score/gsm8k", b'{"completion": 5, "task": []}', 422),
        ("/score/gsm8k", json.dumps({"task": {"answer": "1"}, "completion": "x" * max_body_bytes}).encode(), 413),
        ("/score/no_such_env", b'{"task": {}, "completion": "1"}', 404),
        ("/score/python_stdio", b'{"task": {"tests": "nope"}, "completion": "print(1)"}', 422),
    ]
