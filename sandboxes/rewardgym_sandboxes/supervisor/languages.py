"""The languages table: adding a language is one entry in ``LANGUAGES``.

Commands run in the job's work dir with the sandbox's PATH; ``{heap_mb}`` is replaced by the test's memory
limit minus ``NODE_HEAP_HEADROOM_MB``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NODE_HEAP_HEADROOM_MB = 64


@dataclass(frozen=True)
class Language:
    source_file: str
    """Name the source is written under, in the work dir."""
    run: tuple[str, ...]
    """Command that runs one test (stdin = the test's input)."""
    compile: tuple[str, ...] | None = None
    """Command run once per job; a non-zero exit (or no binary) is CE."""
    memory: Literal["rlimit_as", "runtime_flag"] = "rlimit_as"
    """``rlimit_as``: RLIMIT_AS = memory limit. ``runtime_flag``: no RLIMIT_AS (V8 reserves huge virtual
    memory); the runtime's heap flag in ``run`` plus the slot's cgroup memory limit when there is one."""
    stdin: Literal["test", "test_then_source"] = "test"
    """``test_then_source``: stdin is the test's input followed by the source (sqlite: schema, then query)."""
    zygote: bool = False
    """Run tests through a per-job zygote (``zygote.py``): only ``python``, whose ``run`` is
    ``(interpreter, "-I", "-S", source_file)``."""


LANGUAGES: dict[str, Language] = {
    "python": Language("sol.py", ("python3", "-I", "-S", "sol.py"), zygote=True),
    "cpp": Language("sol.cpp", ("./sol",), compile=("g++", "-O2", "-std=c++17", "-o", "sol", "sol.cpp")),
    "c": Language("sol.c", ("./sol",), compile=("gcc", "-O2", "-std=c17", "-o", "sol", "sol.c", "-lm")),
    "javascript": Language("sol.js", ("node", "--max-old-space-size={heap_mb}", "sol.js"), memory="runtime_flag"),
    "sqlite": Language("query.sql", ("sqlite3", "-safe", "-batch", "-bail", ":memory:"), stdin="test_then_source"),
}

# Markers a runtime prints when an allocation fails under its memory limit (searched in stderr).
OUT_OF_MEMORY_MARKERS = (
    b"MemoryError",
    b"std::bad_alloc",
    b"JavaScript heap out of memory",
    b"Reached heap limit",
    b"out of memory",
    b"Out of memory",
    b"Cannot allocate memory",
)


def run_command(language: Language, memory_limit_mb: int) -> list[str]:
    heap_mb = max(16, memory_limit_mb - NODE_HEAP_HEADROOM_MB)
    return [part.format(heap_mb=heap_mb) for part in language.run]
