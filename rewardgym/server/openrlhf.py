"""`POST /v1/openrlhf/{env}`: the gateway as OpenRLHF's remote reward model (`--remote_rm_url`).

OpenRLHF posts `{"query": [...], "prompts": [...], "labels": [...]}` (`openrlhf/utils/remote_rm_utils.py`,
`remote_rm_fn_ray` / `RemoteRewardModel.get_rewards`): each query is the prompt followed by the response, as
decoded text. It reads `rewards` (used for advantages), `scores` (used for filtering) and `extra_logs` (per-sample
values it logs) from the JSON answer. Here the prompt is stripped from each query (a query that does not start with
its prompt is refused: scoring the question text as the answer would be wrong), the label is the task (its JSON,
or a bare gold answer: `rewardgym.labels`), and the items are scored as one batch through the same admission and
worker path as `POST /score/{env}`.

A null reward stays `null` in `rewards` and `scores` (OpenRLHF then fails loudly rather than train on a made-up 0);
`?null_reward=0` substitutes a number knowingly. `extra_logs.null` marks those samples either way.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, ValidationError

from rewardgym.http import HTTPProblem, json_response, parse_json, read_body
from rewardgym.labels import task_from_label
from rewardgym.protocol import (BatchRequest, BatchResponse, ScoreItem, ScoreRequest, ScoreResult,
                                describe_validation_error)
from rewardgym.server.router import Router
from rewardgym.server.runtimes.base import WorkerHandle
from rewardgym.server.settings import GatewaySettings


class ScoringGateway(Protocol):
    """What this route uses of `rewardgym.server.gateway.Gateway` (named here, so the modules import no circle)."""

    router: Router
    settings: GatewaySettings

    def admit(self, env: str, items: int) -> None: ...

    async def forward(self, handle: WorkerHandle, env: str, body: bytes, score_request: ScoreRequest,
                      items: int) -> Response: ...


class OpenRLHFRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # later OpenRLHF versions may send more; we need these three

    query: list[str]
    prompts: list[str]
    labels: list[Any]


class OpenRLHFRoute:
    def __init__(self, gateway: ScoringGateway) -> None:
        self.gateway = gateway

    async def score(self, env: str, request: Request) -> Response:
        handle = self.gateway.router.pick(env)
        body = await read_body(request, self.gateway.settings.max_body_bytes)
        items = batch_items(parse_request(parse_json(body)))
        null_reward = _null_reward(request.query_params.get("null_reward"))
        if not items:
            return json_response(openrlhf_answer([], null_reward))
        batch = BatchRequest(items=items)
        self.gateway.admit(env, len(items))
        answer = await self.gateway.forward(handle, env, batch.model_dump_json(exclude_none=True).encode(), batch,
                                            len(items))
        if answer.status_code != 200:
            return answer
        return json_response(openrlhf_answer(BatchResponse.model_validate_json(answer.body).results, null_reward))


def parse_request(body: Any) -> OpenRLHFRequest:
    try:
        parsed = OpenRLHFRequest.model_validate(body)
    except ValidationError as exc:
        raise HTTPProblem(422, describe_validation_error(exc, "OpenRLHF request")) from exc
    if not len(parsed.query) == len(parsed.prompts) == len(parsed.labels):
        raise HTTPProblem(422, f"Expected as many prompts and labels as queries, got {len(parsed.query)} queries, "
                               f"{len(parsed.prompts)} prompts and {len(parsed.labels)} labels")
    return parsed


def batch_items(request: OpenRLHFRequest) -> list[ScoreItem]:
    items = []
    for index, (query, prompt, label) in enumerate(zip(request.query, request.prompts, request.labels)):
        if not query.startswith(prompt):
            raise HTTPProblem(422, f"Expected query {index} to start with its prompt, got {query[:80]!r} for prompt "
                                   f"{prompt[:80]!r}")
        try:
            task = task_from_label(label)
        except ValueError as exc:
            raise HTTPProblem(422, f"Label {index}: {exc}") from exc
        items.append(ScoreItem(completion=query[len(prompt):], task=task, id=str(index)))
    return items


def openrlhf_answer(results: list[ScoreResult], null_reward: float | None) -> dict[str, Any]:
    rewards = [result.reward if result.reward is not None else null_reward for result in results]
    return {"rewards": rewards, "scores": rewards, "extra_logs": {
        "null": [float(result.reward is None) for result in results],
        "no_answer": [float(result.status.value == "no_answer") for result in results],
    }}


def _null_reward(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(json.loads(value))
    except (ValueError, TypeError) as exc:
        raise HTTPProblem(422, f"Expected null_reward to be a number, got {value!r}") from exc
