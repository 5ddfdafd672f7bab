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
from typing import Annotated, Any, Literal, NamedTuple, Union

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


# ---- multi-turn sessions (DESIGN.md, "Multi-turn sessions"; rewardgym/worker/sessions.py) -----------------------

MAX_ACTION_CHARS = 10_000
"""Longer actions are refused unread (422): no game here has a move that long."""
MAX_REQUEST_ID_CHARS = 200


class SessionRequest(_Strict):
    """`POST /v1/envs/{env}/sessions`: the game to start. The environment checks `seed` and `options` further."""

    seed: int = Field(ge=0, description="Seed of the episode (gymnasium `reset(seed=...)`).")
    options: dict[str, Any] = Field(default_factory=dict, description="The environment's options (difficulty, ...).")


class SessionStarted(BaseModel):
    """The answer to a new session: its id and the game's opening observation."""

    session_id: str
    env: str
    env_version: str
    observation: str
    info: dict[str, Any]


class StepRequest(_Strict):
    """`POST /v1/sessions/{id}/step`. A step sent again with the same `request_id` gets the answer recorded for it
    and is not played twice; without a `request_id` a retried step is a new step."""

    action: str = Field(max_length=MAX_ACTION_CHARS)
    request_id: str | None = Field(default=None, min_length=1, max_length=MAX_REQUEST_ID_CHARS)


MAX_STEPS_PER_REQUEST = 10_000
MAX_SESSION_ID_CHARS = 200


class SessionStep(StepRequest):
    """One step of a batch: which session, and the step."""

    session_id: str = Field(min_length=1, max_length=MAX_SESSION_ID_CHARS)


class StepsRequest(_Strict):
    """`POST /v1/sessions/steps`: one step in each of many sessions (a vectorised env's step), in one request.
    The answer is `{"results": [...]}` in request order, each the step's answer with `"status": 200`, or
    `{"status": <the code the single-step route would answer>, "detail": "..."}`: one session's failure is its own."""

    steps: list[SessionStep] = Field(min_length=1, max_length=MAX_STEPS_PER_REQUEST)


class SessionStart(SessionRequest):
    """One session of a batch: which multi-turn environment, and the game to start."""

    env: str = Field(min_length=1, max_length=200, description="A multi-turn environment (`kind: multi`).")


class StartsRequest(_Strict):
    """`POST /v1/sessions/starts`: many sessions started in one request (a vectorised env's reset). The answer is
    `{"results": [...]}` in request order, each what `POST /v1/envs/{env}/sessions` answers with `"status": 200`,
    or `{"status": <the code that route would answer>, "detail": "..."}`: one session's failure is its own."""

    starts: list[SessionStart] = Field(min_length=1, max_length=MAX_STEPS_PER_REQUEST)


class DeletesRequest(_Strict):
    """`POST /v1/sessions/deletes`: many sessions forgotten in one request (a vectorised env's close). The answer is
    `{"results": [...]}` in request order, each the session's final state as `DELETE /v1/sessions/{id}` answers it
    with `"status": 200`, or `{"status": 404 | 410 | ..., "detail": "..."}`."""

    session_ids: list[Annotated[str, Field(min_length=1, max_length=MAX_SESSION_ID_CHARS)]] = Field(
        min_length=1, max_length=MAX_STEPS_PER_REQUEST)


class StepResult(BaseModel):
    """What one step returns, as gymnasium's `step` does. `terminated`: the game ended by its rules; `truncated`:
    cut off by its turn limit. Either way the episode is over and further steps are refused (409)."""

    observation: str
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]


class SessionState(BaseModel):
    """`GET /v1/sessions/{id}`: where the game stands, and its transcript (which `POST /score/{env}` scores with
    `{"task": {"seed", "options"}, "completion": json.dumps(actions)}` to the same `total_reward`)."""

    session_id: str
    env: str
    env_version: str
    seed: int
    options: dict[str, Any]
    actions: list[str]
    observation: str
    reward: float
    total_reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]
    idle_s: float
    expires_in_s: float


class ItemProblem(BaseModel):
    """One item of a batch that failed: the code its single route would answer, and why."""

    status: int = Field(ge=400, le=599)
    detail: str


class SessionStartedItem(SessionStarted):
    status: Literal[200]


class StepResultItem(StepResult):
    status: Literal[200]


class SessionStateItem(SessionState):
    status: Literal[200]


class StartsResponse(BaseModel):
    """`POST /v1/sessions/starts`: one result per session asked for, in request order."""

    results: list[SessionStartedItem | ItemProblem]


class StepsResponse(BaseModel):
    """`POST /v1/sessions/steps`: one result per step, in request order."""

    results: list[StepResultItem | ItemProblem]


class DeletesResponse(BaseModel):
    """`POST /v1/sessions/deletes`: one result per session id, in request order (a deleted session's final state)."""

    results: list[SessionStateItem | ItemProblem]


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
    isolation: str | None = None
    """Environments that run model-written code: the sandbox isolation in force where they are hosted
    (containers, bwrap, refused with how to enable it, or UNSAFE); None for the others."""


SANDBOX_ISOLATION_ENV = "REWARDGYM_SANDBOX_ISOLATION"
"""Set in a worker by a family that provisions sandboxes (rewardgym_sandboxes.bwrap.ISOLATION_ENV): its line."""
UNSAFE_SANDBOX_ENV = "REWARDGYM_UNSAFE_SANDBOX"
"""``1`` when the operator passed ``--unsafe-sandbox`` (rewardgym_sandboxes.bwrap.UNSAFE_ENV); workers inherit it."""


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


# ---- one home for each rule of a scoring exchange (docs/architecture.md, "Where each change belongs") ----------


class RequestItem(NamedTuple):
    """One completion to score, whatever shape of request it came in."""

    task: dict[str, Any]
    completion: str
    id: str | None


def request_items(request: ScoreRequest) -> list[RequestItem]:
    """Flatten any request shape into its items, in request order (group items get `<group id>#<index>` ids)."""
    if isinstance(request, GroupsRequest):
        return [RequestItem(group.task, completion, group_item_id(group.id, g, c))
                for g, group in enumerate(request.groups) for c, completion in enumerate(group.completions)]
    if isinstance(request, BatchRequest):
        return [RequestItem(item.task, item.completion, item.id) for item in request.items]
    return [RequestItem(request.task, request.completion, request.id)]


def response_body(request: ScoreRequest, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Put results (one per item, in `request_items` order) back into the request's shape."""
    if isinstance(request, GroupsRequest):
        grouped, start = [], 0
        for group in request.groups:
            grouped.append({"id": group.id, "results": results[start:start + len(group.completions)]})
            start += len(group.completions)
        return {"groups": grouped}
    if isinstance(request, BatchRequest):
        return {"results": results}
    return results[0]


def body_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The results in a response body of any shape, in order: the inverse of `response_body`."""
    if "groups" in body:
        return [result for group in body["groups"] for result in group.get("results", [])]
    if "results" in body:
        return list(body["results"])
    return [body]


def result_body(*, item_id: str | None, env: str, env_version: str, status: Status, reward: float | None,
                components: dict[str, float], details: dict[str, Any], elapsed_ms: float) -> dict[str, Any]:
    """A `ScoreResult` as the JSON object on the wire. The one place results are built: the hot path skips model
    construction, and tests validate this function's output against `ScoreResult` for every status."""
    scored = status in SCORED_STATUSES
    return {
        "id": item_id,
        "reward": reward if scored else None,
        "status": status.value,
        "components": components if scored else {},
        "details": details,
        "env": env,
        "env_version": env_version,
        "elapsed_ms": elapsed_ms,
    }


def failure_body(request: ScoreRequest, env: EnvInfo, status: Status, message: str) -> dict[str, Any]:
    """The response to `request` when none of its items could be scored: one null-reward result per item."""
    if status in SCORED_STATUSES:
        raise ValueError(f"Expected a failure status, got {status.value}")
    results = [result_body(item_id=item.id, env=env.name, env_version=env.version, status=status, reward=None,
                           components={}, details={"message": message}, elapsed_ms=0.0)
               for item in request_items(request)]
    return response_body(request, results)


def item_deadline_s(requested: float | None, env: EnvInfo) -> float:
    """The hard deadline of each item: the request's `timeout_s`, capped by the environment's maximum."""
    if requested is None:
        return env.timeout_s
    return min(requested, env.max_timeout_s)


STATUS_COUNTS_HEADER = "x-rewardgym-status-counts"
"""Response header of a worker's `/score`: how many results of each status, so the gateway counts its metrics
without parsing the body again. Format: `ok=3,no_answer=1`."""


def encode_status_counts(results: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    return ",".join(f"{status}={count}" for status, count in sorted(counts.items()))


def decode_status_counts(header: str | None) -> dict[Status, int]:
    """The counts of `encode_status_counts`; unknown statuses and malformed parts are ignored."""
    counts: dict[Status, int] = {}
    for part in (header or "").split(","):
        name, _, number = part.partition("=")
        if name in _STATUS_VALUES and number.isdigit():
            counts[Status(name)] = int(number)
    return counts


_STATUS_VALUES = frozenset(status.value for status in Status)
