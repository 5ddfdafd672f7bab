"""The wire protocol of `POST /score/{env}` and the catalogue, shared by gateway, workers and client.

Only pydantic here: the client imports this module and must not pull in server dependencies.

Request shapes (see DESIGN.md, "Public HTTP API"):

    single  {"completion": "...", "task": {...}, "id": "opt"}
    batch   {"items": [{"completion": "...", "task": {...}, "id": "opt"}, ...]}
    groups  {"groups": [{"task": {...}, "completions": ["...", ...], "id": "opt"}]}

Every shape may carry `timeout_s`, a per-item deadline capped by the environment's maximum.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class Status(str, Enum):
    """Why a result has the reward it has. Only `ok` and `no_answer` carry a number."""

    OK = "ok"
    NO_ANSWER = "no_answer"
    TIMEOUT = "timeout"
    ERROR = "error"
    INVALID_TASK = "invalid_task"


SCORED_STATUSES = frozenset({Status.OK, Status.NO_ANSWER})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoreItem(_Strict):
    completion: str
    task: dict[str, Any]
    id: str | None = None


class SingleRequest(ScoreItem):
    timeout_s: float | None = Field(default=None, gt=0)


class BatchRequest(_Strict):
    items: list[ScoreItem] = Field(min_length=1)
    timeout_s: float | None = Field(default=None, gt=0)


class Group(_Strict):
    task: dict[str, Any]
    completions: list[str] = Field(min_length=1)
    id: str | None = None


class GroupsRequest(_Strict):
    groups: list[Group] = Field(min_length=1)
    timeout_s: float | None = Field(default=None, gt=0)


ScoreRequest = Union[SingleRequest, BatchRequest, GroupsRequest]


class ScoreResult(BaseModel):
    """The verdict on one completion. `reward` is null exactly when `status` is not `ok`/`no_answer`."""

    id: str | None = None
    reward: float | None
    status: Status
    components: dict[str, float] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)
    env: str
    env_version: str
    elapsed_ms: float = 0.0

    @model_validator(mode="after")
    def _reward_matches_status(self) -> "ScoreResult":
        if self.status in SCORED_STATUSES:
            if self.reward is None or not 0.0 <= self.reward <= 1.0:
                raise ValueError(f"Expected a reward in [0, 1] for status {self.status.value}, got {self.reward}")
        elif self.reward is not None:
            raise ValueError(f"Expected reward null for status {self.status.value}, got {self.reward}")
        return self


class BatchResponse(BaseModel):
    results: list[ScoreResult]


class GroupResult(BaseModel):
    id: str | None = None
    results: list[ScoreResult]


class GroupsResponse(BaseModel):
    groups: list[GroupResult]


class TasksRequest(_Strict):
    n: int = Field(default=1, ge=1, le=10_000)
    seed: int = 0
    options: dict[str, Any] = Field(default_factory=dict)


class GeneratedTask(BaseModel):
    prompt: str
    task: dict[str, Any]


class TasksResponse(BaseModel):
    env: str
    env_version: str
    seed: int
    tasks: list[GeneratedTask]


class EnvInfo(BaseModel):
    """One catalogue entry, as `GET /v1/envs` lists it."""

    name: str
    version: str
    family: str
    description: str
    kind: Literal["single", "multi"] = "single"
    generates_tasks: bool
    task_schema: dict[str, Any]
    example: dict[str, Any]
    timeout_s: float
    max_timeout_s: float
    status: Literal["ready", "starting", "unavailable"] = "ready"


class Catalogue(BaseModel):
    envs: list[EnvInfo]


class RequestShapeError(ValueError):
    """The body is not one of the three request shapes; the message says what is wrong."""


def parse_score_request(body: Any) -> ScoreRequest:
    """Pick the shape by its key (`groups`, `items`, else single) so errors name the right fields."""
    if not isinstance(body, dict):
        raise RequestShapeError(f"Expected a JSON object, got {type(body).__name__}")
    model: type[BaseModel]
    if "groups" in body:
        model = GroupsRequest
    elif "items" in body:
        model = BatchRequest
    else:
        model = SingleRequest
    try:
        return model.model_validate(body)  # type: ignore[return-value]
    except ValidationError as exc:
        raise RequestShapeError(describe_validation_error(exc, model.__name__)) from exc


def describe_validation_error(exc: ValidationError, what: str) -> str:
    problems = []
    for err in exc.errors()[:10]:
        where = ".".join(str(part) for part in err["loc"]) or "body"
        problems.append(f"{where}: {err['msg']}")
    more = f" (and {exc.error_count() - 10} more)" if exc.error_count() > 10 else ""
    return f"Invalid {what}: " + "; ".join(problems) + more


def count_items(request: ScoreRequest) -> int:
    if isinstance(request, GroupsRequest):
        return sum(len(group.completions) for group in request.groups)
    if isinstance(request, BatchRequest):
        return len(request.items)
    return 1


def group_item_id(group_id: str | None, group_index: int, completion_index: int) -> str:
    """Ids of a group's results: `<group id>#<index>`, the group id defaulting to its position."""
    return f"{group_id if group_id is not None else group_index}#{completion_index}"
