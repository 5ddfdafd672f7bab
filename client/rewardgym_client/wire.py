"""What the sync and async clients share: connection settings, chunking, request bodies and typed parsing.

The clients differ only in how they send (blocking vs awaited) and how they run chunks side by side (threads vs
tasks); everything that decides *what* is sent and how answers are read lives here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence, TypeVar, Union
from urllib.parse import unquote, urlsplit

import httpx
from rewardgym.protocol import (
    BatchResponse,
    Catalogue,
    EnvInfo,
    GeneratedTask,
    Group,
    GroupsResponse,
    ScoreItem,
    ScoreResult,
    TasksResponse,
)

from rewardgym_client.retry import RetryPolicy

ItemLike = Union[ScoreItem, Mapping[str, Any]]
"""A batch item: a `ScoreItem` or a dict with `completion`, `task` and optionally `id`."""
GroupLike = Union[Group, Mapping[str, Any]]
"""A group: a `Group` or a dict with `task`, `completions` and optionally `id`."""

T = TypeVar("T")

UNIX_SCHEME = "unix://"
UNIX_HOST = "http://rewardgym"
"""The URL requests carry over a Unix socket (the host part is only what the Host header says)."""


@dataclass(frozen=True)
class ClientSettings:
    """Connection settings of `RewardClient` / `AsyncRewardClient` (one place for their shared defaults)."""

    base_url: str = "http://127.0.0.1:8000"
    """`http://host:port`, or `unix:///path/to/gateway.sock` for a gateway listening on a Unix socket."""
    token: str | None = None
    """Sent as `Authorization: Bearer <token>` when set."""
    timeout_s: float = 300.0
    """Per-request timeout (connect, read, write). A chunk of a big batch is one request."""
    chunk_size: int = 512
    """Most items per request; a group is never split, so a chunk may hold fewer."""
    max_concurrency: int = 8
    """Requests of one call in flight at once."""
    retry: RetryPolicy = RetryPolicy()

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise ValueError(f"Expected chunk_size >= 1, got {self.chunk_size}")
        if self.max_concurrency < 1:
            raise ValueError(f"Expected max_concurrency >= 1, got {self.max_concurrency}")
        if not (self.base_url.startswith(("http://", "https://")) or self.base_url.startswith(UNIX_SCHEME)):
            raise ValueError(f"Expected a base URL starting with http://, https:// or unix://, got {self.base_url!r}")

    def unix_socket(self) -> str | None:
        """The socket path of a `unix://` base URL (`unix:///run/gw.sock` -> `/run/gw.sock`), else None."""
        if not self.base_url.startswith(UNIX_SCHEME):
            return None
        path = unquote(urlsplit(self.base_url).path)
        if not path:
            raise ValueError(f"Expected unix:///absolute/path.sock, got {self.base_url!r}")
        return path

    def http_base_url(self) -> str:
        return UNIX_HOST if self.unix_socket() else self.base_url.rstrip("/")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def limits(self) -> httpx.Limits:
        return httpx.Limits(max_connections=self.max_concurrency, max_keepalive_connections=self.max_concurrency)


def item_dict(item: ItemLike) -> dict[str, Any]:
    model = item if isinstance(item, ScoreItem) else ScoreItem.model_validate(item)
    return model.model_dump(exclude_none=True)


def group_dict(group: GroupLike) -> dict[str, Any]:
    model = group if isinstance(group, Group) else Group.model_validate(group)
    return model.model_dump(exclude_none=True)


def chunk_items(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Consecutive slices of at most `size` items, in order."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def chunk_groups(groups: Sequence[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """Consecutive runs of whole groups holding at most `size` completions (a bigger group travels alone)."""
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    count = 0
    for group in groups:
        n = len(group["completions"])
        if current and count + n > size:
            chunks.append(current)
            current, count = [], 0
        current.append(group)
        count += n
    if current:
        chunks.append(current)
    return chunks


def with_timeout(body: dict[str, Any], timeout_s: float | None) -> dict[str, Any]:
    return {**body, "timeout_s": timeout_s} if timeout_s is not None else body


def score_path(env: str) -> str:
    return f"/score/{env}"


def parse_result(data: Any) -> ScoreResult:
    return ScoreResult.model_validate(data)


def parse_batch(data: Any, expected: int) -> list[ScoreResult]:
    results = BatchResponse.model_validate(data).results
    _check_count(len(results), expected)
    return results


def parse_groups(data: Any, sizes: Sequence[int]) -> list[list[ScoreResult]]:
    groups = GroupsResponse.model_validate(data).groups
    _check_count(len(groups), len(sizes), "groups")
    for group, size in zip(groups, sizes):
        _check_count(len(group.results), size)
    return [group.results for group in groups]


def parse_envs(data: Any) -> list[EnvInfo]:
    return Catalogue.model_validate(data).envs


def parse_env(data: Any) -> EnvInfo:
    return EnvInfo.model_validate(data)


def parse_tasks(data: Any) -> list[GeneratedTask]:
    return TasksResponse.model_validate(data).tasks


def flatten(chunks: Sequence[Sequence[T]]) -> list[T]:
    return [value for chunk in chunks for value in chunk]


def _check_count(got: int, expected: int, what: str = "results") -> None:
    if got != expected:
        raise ValueError(f"Expected {expected} {what} from the server, got {got}")
