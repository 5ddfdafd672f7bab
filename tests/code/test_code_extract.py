"""Extraction: the last fenced block of the language, else the last fenced block, else the whole text."""

from __future__ import annotations

import pytest

from rewardgym_code.cpp_stdio import CPP_TAGS
from rewardgym_code.extract import extract_program, fenced_blocks
from rewardgym_code.javascript_stdio import JAVASCRIPT_TAGS
from rewardgym_code.python_stdio import PYTHON_TAGS
from rewardgym_code.sql import SQL_TAGS


@pytest.mark.parametrize(("completion", "tags", "source", "origin"), [
    ("Here:\n```python\nprint(1)\n```\nand better:\n```python\nprint(2)\n```\nDone.", PYTHON_TAGS, "print(2)", "fence"),
    ("```py\nprint(1)\n```\n```text\nsample output\n```", PYTHON_TAGS, "print(1)", "fence"),
    ("```Python3 title=x\nprint(3)\n```", PYTHON_TAGS, "print(3)", "fence"),
    ("```c++\nint main(){}\n```\n```bash\ng++ sol.cpp\n```", CPP_TAGS, "int main(){}", "fence"),
    ("```js\nconsole.log(1)\n```", JAVASCRIPT_TAGS, "console.log(1)", "fence"),
    ("```sql\nSELECT 1;\n```", SQL_TAGS, "SELECT 1;", "fence"),
    ("```\nprint(1)\n```\n```text\nprint(2)\n```", PYTHON_TAGS, "print(2)", "any_fence"),
    ("print(5)\n", PYTHON_TAGS, "print(5)", "text"),
    ("\n\n    return a + b\n\n", PYTHON_TAGS, "    return a + b", "text"),
    ("```python\nprint(1)\n", PYTHON_TAGS, "print(1)\n", "fence"),  # unclosed: runs to the end (CommonMark)
    ("````python\n```\nnot a close\n```\n````", PYTHON_TAGS, "```\nnot a close\n```", "fence"),
    ("~~~python\nprint(7)\n~~~", PYTHON_TAGS, "print(7)", "fence"),
    ("   ```python\nprint(8)\n   ```  ", PYTHON_TAGS, "print(8)", "fence"),
    ("Use `print` like ```print(1)``` inline.", PYTHON_TAGS, "Use `print` like ```print(1)``` inline.", "text"),
])
def test_extraction_rule(completion, tags, source, origin):
    program = extract_program(completion, tags)
    assert program is not None
    assert (program.source, program.origin) == (source, origin)


@pytest.mark.parametrize("completion", ["", "   \n\t\n", "```python\n\n```", "```python\n```"])
def test_nothing_to_run_is_none(completion):
    assert extract_program(completion, PYTHON_TAGS) is None


def test_a_cpp_block_is_not_taken_for_python_when_a_python_block_exists():
    completion = "```python\nprint(1)\n```\n```cpp\nint main(){}\n```"
    assert extract_program(completion, PYTHON_TAGS).source == "print(1)"
    assert extract_program(completion, CPP_TAGS).source == "int main(){}"


def test_extraction_is_linear_on_hostile_text():
    long_line = "```" + "a" * 1_000_000 + "`"
    assert fenced_blocks(long_line) == []
    assert len(fenced_blocks("```python\n" * 50_000)) == 1  # an opening line never closes a block
    assert len(fenced_blocks("```python\nx\n```\n" * 50_000)) == 50_000
