"""`python_function` cannot be fooled (issue 7, finding 7), against the real sandbox: an object that equals
anything, overridden builtins, an early exit with status 0 and a printed marker all score 0, and the correct
solution scored right after each on the same sandbox scores 1. Plain-value cousins of what the tests expect (a
Counter for a dict, a generator for a list, an in-place change, an expected exception) still pass."""

from __future__ import annotations

import pytest
from code_support import fenced, score

from rewardgym.protocol import Status
from rewardgym_code.python_function import PythonFunctionEnv, harness_program, solution_source

ENV = PythonFunctionEnv()
TOTAL = {  # each trick below passed the tests of one of these two before the harness was hardened
    "prompt": "def total(xs):\n    \"\"\"Sum of xs.\"\"\"\n",
    "test": "def check(candidate):\n    assert candidate([1, 2, 3]) == 6\n    assert candidate([]) == 0\n",
    "entry_point": "total",
}
TOTAL_BUILTINS = {**TOTAL, "test": "def check(candidate):\n    assert abs(candidate([0.5, 2]) - 2.5) < 1e-9\n"
                                   "    assert isinstance(candidate([1]), int)\n"}
CORRECT = fenced("python", "def total(xs):\n    return sum(xs)")
ALWAYS_EQUAL = """
class Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __gt__(self, other): return True
    def __sub__(self, other): return self
    __rsub__ = __sub__
    def __abs__(self): return 0
def total(xs):
    return Anything()
"""
INT_SUBCLASS = """
class Sneaky(int):
    def __eq__(self, other): return True
    __hash__ = int.__hash__
def total(xs):
    return Sneaky(0)
"""
BUILTINS_MODULE = """
import builtins
builtins.abs = lambda x: 0
builtins.isinstance = lambda *a: True
def total(xs):
    return 0
"""
BUILTINS_GLOBAL = """
def abs(x): return 0
def isinstance(*args): return True
def total(xs):
    return 0
"""
EXIT_ZERO = "import os\nos._exit(0)"
EXIT_ZERO_IN_CALL = "import sys\ndef total(xs):\n    sys.exit(0)"
MARKER_FROM_SOURCE = """
import os, re, sys
source = open("sol.py").read()
marker = re.search(r"rewardgym-tests-passed-[0-9a-f]{24}", source).group(0)
print("\\n" + marker, flush=True)
os.write(1, ("\\n" + marker + "\\n").encode())
for fd in (1, 2):
    try:
        with open(f"/proc/{os.getppid()}/fd/{fd}", "w") as out:
            out.write("\\n" + marker + "\\n")
    except OSError:
        pass
os._exit(0)
"""


@pytest.mark.parametrize("name, task, source", [
    ("an object equal to anything", TOTAL, ALWAYS_EQUAL),
    ("an int subclass equal to anything", TOTAL, INT_SUBCLASS),
    ("builtins overridden through the builtins module", TOTAL_BUILTINS, BUILTINS_MODULE),
    ("builtins shadowed by globals", TOTAL_BUILTINS, BUILTINS_GLOBAL),
    ("exit 0 before the tests", TOTAL, EXIT_ZERO),
    ("exit 0 inside a call", TOTAL, EXIT_ZERO_IN_CALL),
    ("the marker read from the harness's source and printed", TOTAL, MARKER_FROM_SOURCE),
])
def test_a_trick_scores_0_and_the_next_correct_solution_1(name, task, source):
    tricked = score(ENV, task, fenced("python", source))
    assert (tricked.reward, tricked.status) == (0.0, Status.OK), (name, tricked.details)
    assert tricked.details["verdict"] in {"WA", "RE"}, tricked.details
    correct = score(ENV, task, CORRECT)
    assert (correct.reward, correct.details["verdict"]) == (1.0, "AC"), correct.details


def test_the_marker_is_printed_by_the_harness_only():
    program, marker = harness_program(ENV.parse_task(TOTAL), solution_source(ENV.parse_task(TOTAL), CORRECT))
    assert program.count(marker) == 1  # once, as the harness's constant; the solution's process cannot print it


@pytest.mark.parametrize("task, source", [
    ({"test": "assert count('aab') == {'a': 2, 'b': 1}\n", "entry_point": "count"},
     "from collections import Counter\ndef count(s):\n    return Counter(s)"),
    ({"test": "assert list(evens(5)) == [0, 2, 4]\nassert next(evens(3)) == 0\n", "entry_point": "evens"},
     "def evens(n):\n    return (i for i in range(n) if i % 2 == 0)"),
    ({"test": "xs = [3, 1, 2]\nsort_in_place(xs)\nassert xs == [1, 2, 3]\n", "entry_point": "sort_in_place"},
     "def sort_in_place(xs):\n    xs.sort()"),
    ({"test": "try:\n    root(-1)\nexcept ValueError:\n    pass\nelse:\n    assert False\nassert root(9) == 3\n",
      "entry_point": "root"},
     "import math\ndef root(x):\n    if x < 0:\n        raise ValueError('negative')\n    return math.isqrt(x)"),
    ({"test": "from collections import namedtuple\nP = namedtuple('P', 'x y')\nassert point() == P(1, 2)\n",
      "entry_point": "point"},
     "from collections import namedtuple\ndef point():\n    return namedtuple('P', 'x y')(1, 2)"),
    ({"test": "assert math.isclose(area(1), 3.14159, rel_tol=1e-3)\n", "entry_point": "area"},
     "import math\ndef area(r):\n    return math.pi * r * r"),  # the test uses the solution's import
])
def test_plain_values_of_other_types_still_pass(task, source):
    result = score(ENV, task, fenced("python", source))
    assert (result.reward, result.details["verdict"]) == (1.0, "AC"), result.details
