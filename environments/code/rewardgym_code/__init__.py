"""The code family: programs judged in the sandbox, hosted by one worker. Model code never runs in this
process: each environment builds sandbox jobs (`sandbox.py`) and compares what comes back."""

from rewardgym.registry import Family

from rewardgym_code.c_stdio import CStdioEnv
from rewardgym_code.cpp_stdio import CppStdioEnv
from rewardgym_code.javascript_stdio import JavascriptStdioEnv
from rewardgym_code.python_function import PythonFunctionEnv
from rewardgym_code.python_stdio import PythonStdioEnv
from rewardgym_code.sql import SqlEnv

FAMILY = Family(
    name="code",
    environments=(
        PythonFunctionEnv,
        PythonStdioEnv,
        CppStdioEnv,
        CStdioEnv,
        JavascriptStdioEnv,
        SqlEnv,
    ),
    needs_sandbox=True,
)

__all__ = ["FAMILY"]
