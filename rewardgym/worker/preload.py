"""Imported once by the fork server of a worker's pool, before it forks any scoring process.

It loads the family named by $REWARDGYM_PRELOAD_FAMILY and scores each environment's worked examples, so every
scoring process (including each replacement of a killed one) starts with imports done and caches warm: the
first math-verify call in a cold process costs ~150 ms, a warm one under 1 ms.
"""

from __future__ import annotations

import logging
import os

from rewardgym.heap import freeze_startup_heap
from rewardgym.worker.execution import FamilyExecutor
from rewardgym.worker.resources import handed_resources

PRELOAD_ENV_VAR = "REWARDGYM_PRELOAD_FAMILY"

warm_executor: FamilyExecutor | None = None
warm_family: str | None = os.environ.get(PRELOAD_ENV_VAR)

if warm_family:
    try:
        warm_executor = FamilyExecutor.load(warm_family, handed_resources())
        warm_executor.warm_up()
    except Exception:  # noqa: BLE001 - a failure here must not kill the fork server; children load on their own
        logging.getLogger(__name__).exception("warm-up of family %s failed", warm_family)
        warm_executor = None
    freeze_startup_heap()  # every scoring process forked from here inherits a heap its collections skip
