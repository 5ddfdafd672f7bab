"""The code family: programs judged in the sandbox, hosted by one worker. Model code never runs in this
process: each environment builds sandbox jobs (`sandbox.py`) and compares what comes back."""

import os

from rewardgym.registry import Family, FamilyResources
from rewardgym_sandboxes.pool import SANDBOX_DIR_ENV
from rewardgym_sandboxes.provision import provision_sandboxes

from rewardgym_code.c_stdio import CStdioEnv
from rewardgym_code.cpp_stdio import CppStdioEnv
from rewardgym_code.javascript_stdio import JavascriptStdioEnv
from rewardgym_code.python_function import PythonFunctionEnv
from rewardgym_code.python_stdio import PythonStdioEnv
from rewardgym_code.sql import SqlEnv


class SandboxSlots(FamilyResources):
    """The code family's resources: one sandbox slot per scoring process, set up once per worker (warm containers
    when Docker and the sandbox image are there, else local supervisors; see rewardgym_sandboxes.provision)."""

    def start(self) -> str | None:
        """The slots' socket directory (None: local supervisors, started by each scoring process on first use).
        Scoring processes also inherit it as $REWARDGYM_SANDBOX_DIR, which `default_pool` reads."""
        self._stop = provision_sandboxes(self.context.work_dir, self.context.processes)
        return os.environ.get(SANDBOX_DIR_ENV)

    def stop(self) -> None:
        self._stop()


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
    resources=SandboxSlots,
)

__all__ = ["FAMILY"]
