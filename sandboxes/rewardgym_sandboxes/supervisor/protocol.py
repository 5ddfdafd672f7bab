"""Wire format (4-byte big-endian length + UTF-8 JSON) and the job model, validated once on arrival."""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import dataclass, field

MAX_FRAME_BYTES = 256 * 1024 * 1024

# Defaults, documented in sandboxes/README.md.
DEFAULT_TIME_LIMIT_S = 2.0
DEFAULT_MEMORY_LIMIT_MB = 256
DEFAULT_OUTPUT_LIMIT_BYTES = 1024 * 1024
DEFAULT_COMPILE_TIME_LIMIT_S = 10.0
WALL_FACTOR = 2.0  # wall-clock limit = WALL_FACTOR * time_limit_s unless wall_limit_s is given
STDERR_HEAD_BYTES = 4096
MAX_TESTS = 10_000

# Server maxima: a job asking for more is refused (IE "invalid job"), never silently clamped.
MAX_TIME_LIMIT_S = 10.0
MAX_WALL_LIMIT_S = 30.0
MAX_MEMORY_LIMIT_MB = 1024
MAX_OUTPUT_LIMIT_BYTES = 64 * 1024 * 1024
MAX_COMPILE_TIME_LIMIT_S = 30.0
MAX_DEADLINE_S = 3600.0

# Everything a job's tests write that goes into its reply (stdout and the stderr heads, all tests together) is
# capped where it is captured: each test's stdout cap is at most what is left of this. JSON at most multiplies a
# byte by 6 (a control byte becomes \u00XX), so a reply stays under MAX_FRAME_BYTES whatever the tests print.
JOB_OUTPUT_LIMIT_BYTES = 32 * 1024 * 1024


class ProtocolError(Exception):
    """A frame or a job that does not follow the protocol."""


def send_frame(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    if len(data) > MAX_FRAME_BYTES:  # never a frame the peer must refuse: say why instead
        raise ProtocolError(f"Expected a message of at most {MAX_FRAME_BYTES} bytes, got {len(data)}")
    sock.sendall(struct.pack(">I", len(data)) + data)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            if got == 0:
                return None
            raise ProtocolError(f"Expected {n} bytes, got {got} before the peer closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket) -> dict | None:
    """Read one message; ``None`` when the peer closed the connection cleanly between frames."""
    header = _recv_exact(sock, 4)
    if header is None:
        return None
    (length,) = struct.unpack(">I", header)
    if length > MAX_FRAME_BYTES:
        raise ProtocolError(f"Expected a frame of at most {MAX_FRAME_BYTES} bytes, got {length}")
    body = _recv_exact(sock, length) or b""
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"Expected UTF-8 JSON, got undecodable bytes: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError(f"Expected a JSON object, got {type(message).__name__}")
    return message


@dataclass(frozen=True)
class TestSpec:
    stdin: str = ""
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    wall_limit_s: float = DEFAULT_TIME_LIMIT_S * WALL_FACTOR
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB
    output_limit_bytes: int = DEFAULT_OUTPUT_LIMIT_BYTES


@dataclass(frozen=True)
class JobSpec:
    language: str
    source: str
    tests: list[TestSpec] = field(default_factory=list)
    stop_on_first_failure: bool = False
    compile_time_limit_s: float = DEFAULT_COMPILE_TIME_LIMIT_S
    deadline_s: float | None = None
    """Seconds the whole job may take from its arrival (the caller's item deadline): past it the job is
    stopped, its processes killed, and the reply is IE with ``"stopped": "deadline"``."""


def _number(obj: dict, key: str, default: float, low: float, high: float) -> float:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ProtocolError(f"Expected {key} to be a number in [{low}, {high}], got {value!r}")
    return value


def parse_test(obj: object) -> TestSpec:
    if not isinstance(obj, dict):
        raise ProtocolError(f"Expected each test to be an object, got {type(obj).__name__}")
    stdin = obj.get("stdin", "")
    if not isinstance(stdin, str):
        raise ProtocolError(f"Expected test stdin to be a string, got {type(stdin).__name__}")
    time_limit = _number(obj, "time_limit_s", DEFAULT_TIME_LIMIT_S, 0.01, MAX_TIME_LIMIT_S)
    return TestSpec(
        stdin=stdin,
        time_limit_s=time_limit,
        wall_limit_s=_number(obj, "wall_limit_s", min(time_limit * WALL_FACTOR, MAX_WALL_LIMIT_S), 0.01,
                             MAX_WALL_LIMIT_S),
        memory_limit_mb=int(_number(obj, "memory_limit_mb", DEFAULT_MEMORY_LIMIT_MB, 16, MAX_MEMORY_LIMIT_MB)),
        output_limit_bytes=int(_number(obj, "output_limit_bytes", DEFAULT_OUTPUT_LIMIT_BYTES, 1,
                                       MAX_OUTPUT_LIMIT_BYTES)),
    )


def parse_job(obj: dict, known_languages: set[str]) -> JobSpec:
    language, source, tests = obj.get("language"), obj.get("source"), obj.get("tests", [])
    if language not in known_languages:
        raise ProtocolError(f"Expected language in {sorted(known_languages)}, got {language!r}")
    if not isinstance(source, str):
        raise ProtocolError(f"Expected source to be a string, got {type(source).__name__}")
    if not isinstance(tests, list) or len(tests) > MAX_TESTS:
        raise ProtocolError(f"Expected tests to be a list of at most {MAX_TESTS} objects")
    return JobSpec(
        language=language,
        source=source,
        tests=[parse_test(t) for t in tests],
        stop_on_first_failure=bool(obj.get("stop_on_first_failure", False)),
        compile_time_limit_s=_number(obj, "compile_time_limit_s", DEFAULT_COMPILE_TIME_LIMIT_S, 0.1,
                                     MAX_COMPILE_TIME_LIMIT_S),
        deadline_s=None if obj.get("deadline_s") is None else _number(obj, "deadline_s", 0, 0.001, MAX_DEADLINE_S),
    )


def tests_size(tests: list) -> int:
    """Approximate bytes a test list holds (its stdins plus a little per test), for the cache's bound."""
    return sum(64 + (len(t.get("stdin", "")) if isinstance(t, dict) and isinstance(t.get("stdin"), str) else 0)
               for t in tests)


class TestsCache:
    """The last test sets by ``tests_key``, so a group's tests cross the socket once, not once per completion.

    The key is opaque here (the caller's promise that it names these tests: ``rewardgym_sandboxes.pool.tests_key``
    hashes them); bounded in entries and bytes, least recently used first out."""

    def __init__(self, max_entries: int = 16, max_bytes: int = 64 * 1024 * 1024):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._entries: dict[str, tuple[list, int]] = {}  # insertion order = recency
        self._bytes = 0

    def put(self, key: str, tests: list) -> None:
        size = tests_size(tests)
        self._pop(key)
        if size > self.max_bytes:
            return
        self._entries[key] = (tests, size)
        self._bytes += size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._pop(next(iter(self._entries)))

    def get(self, key: str) -> list | None:
        entry = self._pop(key)
        if entry is None:
            return None
        self._entries[key] = entry
        self._bytes += entry[1]
        return entry[0]

    def _pop(self, key: str):
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[1]
        return entry

    def __len__(self) -> int:
        return len(self._entries)


def resolve_tests(message: dict, cache: TestsCache) -> dict | None:
    """Apply ``tests_key``: store the tests it names, or fill them in; ``None`` on a cache miss."""
    key = message.get("tests_key")
    if key is None:
        return message
    if not isinstance(key, str) or not 8 <= len(key) <= 128:
        raise ProtocolError(f"Expected tests_key to be a string of 8 to 128 characters, got {key!r}")
    if "tests" in message:
        if isinstance(message["tests"], list):
            cache.put(key, message["tests"])
        return message
    tests = cache.get(key)
    return None if tests is None else message | {"tests": tests}
