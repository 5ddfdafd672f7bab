"""The verdict rules (sandboxes/README.md, "Verdicts"): one run's outcome -> (verdict, reason)."""

from __future__ import annotations

import signal

from .languages import OUT_OF_MEMORY_MARKERS
from .process import RunOutcome
from .protocol import TestSpec

MB = 1024 * 1024
MLE_RSS_FRACTION = 0.9


def classify(out: RunOutcome, test: TestSpec, memory_hit: bool) -> tuple[str, str | None]:
    """The verdict rules (sandboxes/README.md), first match wins."""
    failed = out.signal is not None or out.exit_code != 0
    stderr = out.stderr_head + out.stderr_tail
    if out.setup_error:
        return "IE", "sandbox setup failed"
    if out.killed_for == "output":
        return "OLE", f"stdout over {test.output_limit_bytes} bytes"
    if out.killed_for == "memory":
        return "MLE", "resident memory over the limit"
    if failed and (memory_hit or any(marker in stderr for marker in OUT_OF_MEMORY_MARKERS)):
        return "MLE", "out of memory"
    if out.cpu_ms > test.time_limit_s * 1000 or out.signal == signal.SIGXCPU:
        return "TLE", "cpu"
    if out.killed_for == "wall":
        return "TLE", "wall"
    if not failed:
        return "OK", None
    if out.memory_kb * 1024 >= MLE_RSS_FRACTION * test.memory_limit_mb * MB:
        return "MLE", "peak memory near the limit"
    if out.signal is not None:
        return "RE", f"signal {_signal_name(out.signal)}"
    return "RE", f"exit code {out.exit_code}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
