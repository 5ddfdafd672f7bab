"""`python_stdio`: a Python 3 program (standard library only) reading stdin, writing stdout."""

from __future__ import annotations

import re

from rewardgym.sdk import Example

from rewardgym_code.sandbox import JobResult
from rewardgym_code.stdio import EXAMPLE_TASK, StdioEnvironment, StdioTask, stdio_description

PYTHON_TAGS = frozenset({"python", "py", "python3"})

_SYNTAX_ERROR = re.compile(r"^(?:SyntaxError|IndentationError|TabError):", re.MULTILINE)


def python_syntax_error(result: JobResult) -> str | None:
    """Python's compile step is part of its run: a first run that died of a SyntaxError in the file itself (no
    traceback: nothing ran) is reported as CE with that message, like a compiler's."""
    if result.verdict == "CE":
        return result.compile_message or ""
    first = result.runs[0] if result.runs else None
    if (first is not None and first.verdict == "RE" and "Traceback (most recent call last)" not in first.stderr
            and _SYNTAX_ERROR.search(first.stderr)):
        return first.stderr
    return None


class PythonStdioEnv(StdioEnvironment):
    name = "python_stdio"
    version = "1.0.0"
    description = stdio_description("Python 3", "python3 -I -S, standard library only", "python / ```py")
    language = "python"
    fence_tags = PYTHON_TAGS

    def compile_error(self, result: JobResult) -> str | None:
        return python_syntax_error(result)

    def examples(self) -> list[Example[StdioTask]]:
        correct = "```python\nimport sys\n\nn, *xs = map(int, sys.stdin.read().split())\nprint(sum(xs[:n]))\n```"
        wrong = "```python\nimport sys\n\nn, *xs = map(int, sys.stdin.read().split())\nprint(max(xs[:n]))\n```"
        return [Example(EXAMPLE_TASK, correct, 1.0), Example(EXAMPLE_TASK, wrong, 0.0)]
