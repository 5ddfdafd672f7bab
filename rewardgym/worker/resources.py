"""A family's resources (`Family.resources`) in a worker: started before the scoring processes, handed to them,
stopped with the worker (docs/architecture.md, "Family resources").

The value `FamilyResources.start` returns reaches every scoring process (replacements included) with its start
arguments (`ItemPool.resources`); the fork server's warm-up reads it from the environment variable below, set
before the pool's fork server starts.
"""

from __future__ import annotations

import asyncio
import json
import os
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from rewardgym.registry import Family, WorkerContext

RESOURCES_ENV_VAR = "REWARDGYM_FAMILY_RESOURCES"


@asynccontextmanager
async def family_resources(family: Family, processes: int, work_dir: str) -> AsyncIterator[Any]:
    """Start `family`'s resources (if it declares any) for a worker of `processes` scoring processes."""
    if family.resources is None:
        os.environ[RESOURCES_ENV_VAR] = "null"
        yield None
        return
    os.makedirs(work_dir, mode=0o700, exist_ok=True)
    resources = family.resources(WorkerContext(family=family.name, processes=processes, work_dir=work_dir))
    value = await asyncio.to_thread(resources.start)
    try:
        os.environ[RESOURCES_ENV_VAR] = json.dumps(value)
    except (TypeError, ValueError) as exc:
        await asyncio.to_thread(resources.stop)
        raise TypeError(f"Expected {type(resources).__name__}.start() to return JSON, got "
                        f"{type(value).__name__}: {exc}") from exc
    try:
        yield value
    finally:
        await asyncio.to_thread(resources.stop)


def handed_resources() -> Any:
    """In a scoring process: what the worker's family resources handed over (None when there are none)."""
    return json.loads(os.environ.get(RESOURCES_ENV_VAR, "null"))
