"""The gateway and local runtime end to end: a real `rewardgym serve` with real workers (toy family)."""

import concurrent.futures
import os
import signal
import time

import psutil
import pytest

from rewardgym.protocol import ScoreResult

TASK = {"answer": "1"}


def item(completion: str, item_id: str | None = None) -> dict:
    return {"completion": completion, "task": TASK, **({"id": item_id} if item_id else {})}


def test_three_shapes_answer_in_request_order(toy_server):
    with toy_server.client() as http:
        single = http.post("/score/toy_echo", json=item("1", "a"))
        assert single.status_code == 200
        assert ScoreResult.model_validate(single.json()).reward == 1.0 and single.json()["id"] == "a"

        completions = ["1", "2", "!sleep 0.3", "1", ""]
        batch = http.post("/score/toy_echo", json={"items": [item(c, f"i{n}") for n, c in enumerate(completions)]})
        results = [ScoreResult.model_validate(r) for r in batch.json()["results"]]
        assert [r.id for r in results] == [f"i{n}" for n in range(5)]
        assert [r.reward for r in results] == [1.0, 0.0, 0.0, 1.0, 0.0]
        assert results[4].status == "no_answer"

        groups = http.post("/score/toy_echo", json={"groups": [
            {"id": "p17", "task": TASK, "completions": ["1", "0"]},
            {"task": {"answer": "x"}, "completions": ["x"]},
        ]}).json()["groups"]
        assert [g["id"] for g in groups] == ["p17", None]
        assert [r["id"] for r in groups[0]["results"]] == ["p17#0", "p17#1"]
        assert [r["reward"] for r in groups[0]["results"]] == [1.0, 0.0]
        assert groups[1]["results"][0]["id"] == "1#0" and groups[1]["results"][0]["env"] == "toy_echo"


@pytest.mark.parametrize("body, status, fragment", [
    ({"task": TASK}, 422, "completion: Field required"),
    ({"completion": ["1"], "task": TASK}, 422, "valid string"),
    ({"completion": "1", "task": "not an object"}, 422, "task"),
    ({"items": []}, 422, "at least 1 item"),
    ({"groups": [{"task": TASK}]}, 422, "completions: Field required"),
    ({"completion": "1", "task": {"answer": 1}}, 422, "Invalid task for toy_echo"),
    ({"completion": "1", "task": {"answer": "!invalid"}}, 422, "marked invalid"),
    ({"completion": "1", "task": TASK, "timeout_s": "soon"}, 422, "timeout_s"),
])
def test_malformed_requests_get_4xx_with_a_message(toy_server, body, status, fragment):
    with toy_server.client() as http:
        answer = http.post("/score/toy_echo", json=body)
    assert answer.status_code == status, answer.text
    assert fragment in answer.json()["detail"]


def test_unknown_env_invalid_json_and_oversize(toy_server):
    with toy_server.client() as http:
        unknown = http.post("/score/nope", json=item("1"))
        assert unknown.status_code == 404 and unknown.json()["known_envs"] == ["toy_echo"]
        assert http.post("/score/toy_echo", content=b"{not json").status_code == 422
        assert http.post("/score/toy_echo", content=b"").status_code == 422
        big = http.post("/score/toy_echo", json=item("x" * (5 * 1024 * 1024)))
        assert big.status_code == 413 and "exceeds the limit" in big.json()["detail"]
        many = http.post("/score/toy_echo", json={"items": [item("1")] * 1001})
        assert many.status_code == 413 and "limit is 1000" in many.json()["detail"]
        # an invalid task inside a batch is that item's status, not a 4xx for the whole batch
        mixed = http.post("/score/toy_echo", json={"items": [item("1"), {"completion": "1", "task": {}}]})
        assert [r["status"] for r in mixed.json()["results"]] == ["ok", "invalid_task"]
        assert mixed.json()["results"][1]["reward"] is None


def test_a_hanging_item_costs_one_deadline_not_the_batch(toy_server):
    items = [item("1", str(n)) for n in range(100)]
    items[37] = item("!sleep 600", "37")
    with toy_server.client() as http:
        started = time.monotonic()
        results = http.post("/score/toy_echo", json={"items": items, "timeout_s": 1}).json()["results"]
        elapsed = time.monotonic() - started
    assert [r["status"] for r in results].count("ok") == 99
    assert results[37]["status"] == "timeout" and results[37]["reward"] is None
    assert 1.0 <= elapsed < 2.5


def test_queue_bound_answers_429_with_retry_after(toy_server):
    slow = {"items": [item("!sleep 1.5")] * 2 + [item("1")] * 998}
    with concurrent.futures.ThreadPoolExecutor(2) as pool, toy_server.client() as http:
        first = pool.submit(http.post, "/score/toy_echo", json=slow)
        time.sleep(0.5)
        second = http.post("/score/toy_echo", json={"items": [item("1")] * 600})
        assert second.status_code == 429 and int(second.headers["retry-after"]) >= 1
        assert first.result().status_code == 200
        assert http.post("/score/toy_echo", json={"items": [item("1")] * 600}).status_code == 200


def test_catalogue_generation_docs_and_metrics(toy_server):
    with toy_server.client() as http:
        envs = http.get("/v1/envs").json()["envs"]
        assert [e["name"] for e in envs] == ["toy_echo"] and envs[0]["status"] == "ready"
        assert envs[0]["task_schema"]["required"] == ["answer"] and envs[0]["generates_tasks"]
        assert http.get("/v1/envs/toy_echo").json()["version"] == "0.1.0"
        assert http.get("/v1/envs/nope").status_code == 404
        tasks = http.post("/v1/envs/toy_echo/tasks", json={"n": 3, "seed": 5}).json()["tasks"]
        again = http.post("/v1/envs/toy_echo/tasks", json={"n": 3, "seed": 5}).json()["tasks"]
        assert tasks == again and len({t["task"]["answer"] for t in tasks}) == 3
        bad = http.post("/v1/envs/toy_echo/tasks", json={"n": 1, "options": {"difficulty": "extreme"}})
        assert bad.status_code == 422 and "difficulty" in bad.json()["detail"]
        assert http.post("/v1/envs/toy_echo/tasks", json={"n": 0}).status_code == 422
        assert http.get("/docs").status_code == 200
        schema = http.get("/openapi.json").json()
        assert "/score/{env}" in schema["paths"] and "ScoreRequest" in schema["components"]["schemas"]
        http.post("/score/toy_echo", json=item("1"))
        metrics = http.get("/metrics").text
        assert 'rewardgym_items_total{env="toy_echo",status="ok"}' in metrics
        assert "rewardgym_request_seconds_bucket" in metrics and "rewardgym_queue_depth" in metrics
        assert http.get("/healthz").json() == {"status": "ok"}


def _worker_processes(server) -> tuple[psutil.Process, list[psutil.Process]]:
    """The family worker under the gateway, and its scoring processes (children of its fork server)."""
    gateway = psutil.Process(server.process.pid)
    worker = next(p for p in gateway.children() if "rewardgym.worker" in " ".join(p.cmdline()))
    forkserver = next(p for p in worker.children() if "forkserver" in " ".join(p.cmdline()))
    scorers = forkserver.children()
    return worker, scorers


def test_killing_a_scoring_process_fails_only_its_item(toy_server):
    items = [item(f"!sleep 0.2 {n}", str(n)) for n in range(20)]  # distinct: identical items are scored once
    with concurrent.futures.ThreadPoolExecutor(1) as pool, toy_server.client() as http:
        answer = pool.submit(http.post, "/score/toy_echo", json={"items": items})
        time.sleep(0.5)
        _, scorers = _worker_processes(toy_server)
        os.kill(scorers[0].pid, signal.SIGKILL)
        results = answer.result().json()["results"]
    statuses = [r["status"] for r in results]
    assert statuses.count("error") == 1 and statuses.count("ok") == 19
    failed = next(r for r in results if r["status"] == "error")
    assert failed["reward"] is None and "killed by SIGKILL" in failed["details"]["message"]


def test_killing_the_worker_fails_in_flight_items_and_it_comes_back(toy_server):
    items = [item(f"!sleep 0.3 {n}", str(n)) for n in range(20)]
    with concurrent.futures.ThreadPoolExecutor(1) as pool, toy_server.client() as http:
        answer = pool.submit(http.post, "/score/toy_echo", json={"items": items})
        time.sleep(0.5)
        worker, _ = _worker_processes(toy_server)
        worker.kill()
        results = answer.result().json()["results"]
        assert len(results) == 20 and {r["status"] for r in results} == {"error"}
        assert all(r["reward"] is None and "failed during the request" in r["details"]["message"] for r in results)
        assert http.post("/score/toy_echo", json=item("1")).status_code in (200, 503)
        deadline = time.monotonic() + 30
        while http.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, toy_server.log()
            time.sleep(0.1)
        assert http.post("/score/toy_echo", json=item("1")).json()["reward"] == 1.0
        assert 'rewardgym_worker_restarts{worker="tests.support.toy_family:FAMILY"} 1.0' in http.get("/metrics").text
