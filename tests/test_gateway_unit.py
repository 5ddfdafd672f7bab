"""The gateway against fake workers (an in-memory worker client, no processes): routing, 503, failures."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from rewardgym.server.gateway import GatewaySettings, create_app
from rewardgym.protocol import STATUS_COUNTS_HEADER, EnvInfo
from rewardgym.server.runtimes.base import Runtime, WorkerHandle
from rewardgym.server.worker_client import WorkerResponse, WorkerUnavailable


class FakeWorkerClient:
    """Answers the gateway's requests with `handler(method, path, body)`."""

    def __init__(self, handler) -> None:
        self.handler = handler

    async def get(self, path: str, timeout: float | None = None) -> WorkerResponse:
        return self.handler("GET", path, None)

    async def post(self, path: str, content: bytes, timeout: float | None = None) -> WorkerResponse:
        return self.handler("POST", path, content)

    async def aclose(self) -> None:
        pass


def env_info(name: str) -> EnvInfo:
    return EnvInfo(name=name, version="2.0.0", family="fake", description="", generates_tasks=False,
                   task_schema={}, example={}, timeout_s=1.0, max_timeout_s=2.0)


class FakeRuntime(Runtime):
    """Workers that exist only as handles, answered by a fake client."""

    def __init__(self, handler, state: str = "ready") -> None:
        super().__init__()
        handle = WorkerHandle("fake")
        handle.client = FakeWorkerClient(handler)  # type: ignore[assignment]
        handle.envs = [env_info("echo")]
        handle.state = state  # type: ignore[assignment]
        self.handles.append(handle)

    async def start(self) -> None:
        self.on_change()

    async def stop(self) -> None:
        pass

    def describe(self) -> str:
        return "fake runtime"


def refuse(method: str, path: str, body: bytes | None) -> WorkerResponse:
    raise WorkerUnavailable("cannot connect to the worker: connection refused")


def client(handler, state: str = "ready") -> TestClient:
    return TestClient(create_app(FakeRuntime(handler, state), GatewaySettings()))


def test_a_worker_that_fails_turns_every_item_into_error_in_the_request_shape():
    with client(refuse) as http:
        single = http.post("/score/echo", json={"completion": "x", "task": {}, "id": "a"}).json()
        assert (single["id"], single["status"], single["reward"], single["env_version"]) == ("a", "error", None,
                                                                                             "2.0.0")
        assert "connection refused" in single["details"]["message"]
        groups = http.post("/score/echo", json={"groups": [{"id": "g", "task": {}, "completions": ["1", "2"]}]})
        assert [r["id"] for r in groups.json()["groups"][0]["results"]] == ["g#0", "g#1"]
        assert {r["status"] for r in groups.json()["groups"][0]["results"]} == {"error"}
        metrics = http.get("/metrics").text
        assert 'rewardgym_items_total{env="echo",status="error"} 3.0' in metrics


def test_an_environment_whose_worker_is_starting_answers_503_with_retry_after():
    with client(refuse, state="starting") as http:
        answer = http.post("/score/echo", json={"completion": "x", "task": {}})
        assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
        assert http.get("/readyz").status_code == 503
        assert http.get("/v1/envs").json()["envs"][0]["status"] == "starting"


def test_worker_answers_are_passed_through_and_counted():
    def echo(method: str, path: str, body: bytes | None) -> WorkerResponse:
        if path == "/score/echo":
            return WorkerResponse(200, json.dumps({"id": None, "reward": 1.0, "status": "ok", "components": {},
                                                   "details": {}, "env": "echo", "env_version": "2.0.0",
                                                   "elapsed_ms": 1.0}).encode(),
                                  {STATUS_COUNTS_HEADER: "ok=1"})
        return WorkerResponse(422, b'{"detail": "Environment \'echo\' does not generate tasks"}')

    with client(echo) as http:
        assert http.post("/score/echo", json={"completion": "x", "task": {}}).json()["reward"] == 1.0
        tasks = http.post("/v1/envs/echo/tasks", json={"n": 1})
        assert tasks.status_code == 422 and "does not generate" in tasks.json()["detail"]
        assert 'rewardgym_items_total{env="echo",status="ok"} 1.0' in http.get("/metrics").text


@pytest.mark.parametrize("body", [b"\xff\xfe", b"[1, 2]", b"null", b'{"items": "x"}', b'{"groups": [{}]}'])
def test_garbage_bodies_are_4xx_never_500(body):
    with client(refuse) as http:
        answer = http.post("/score/echo", content=body)
        assert 400 <= answer.status_code < 500 and answer.json()["detail"]
