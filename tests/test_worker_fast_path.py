"""A real worker process answers `POST /score/{env}` through its fast path (no FastAPI routing) with the same
answers and errors as the FastAPI route, and everything else through FastAPI."""

import json
import os
import subprocess
import sys
import tempfile
import time

import httpx
import pytest

TOY = "tests.support.toy_family:FAMILY"


@pytest.fixture(scope="module")
def worker():
    directory = tempfile.mkdtemp(prefix="rewardgym-fast-")
    sock = os.path.join(directory, "toy.sock")
    process = subprocess.Popen([sys.executable, "-m", "rewardgym.worker", "--family", TOY, "--socket", sock,
                                "--processes", "1"])
    client = httpx.Client(transport=httpx.HTTPTransport(uds=sock), base_url="http://worker", timeout=30)
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.get("/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline and process.poll() is None, "the worker did not start"
        time.sleep(0.1)
    yield client
    client.close()
    process.terminate()
    process.wait(timeout=30)


def test_a_batch_is_scored_with_its_status_counts(worker):
    answer = worker.post("/score/toy_echo", json={"items": [{"task": {"answer": "1"}, "completion": c, "id": c}
                                                            for c in ["1", "2", ""]]})
    assert answer.status_code == 200
    assert [r["reward"] for r in answer.json()["results"]] == [1.0, 0.0, 0.0]
    assert answer.headers["x-rewardgym-status-counts"] == "no_answer=1,ok=2"


@pytest.mark.parametrize("path, body, status, detail", [
    ("/score/no_such_env", b'{"task": {}, "completion": "1"}', 404, "Unknown environment"),
    ("/score/toy_echo", b"{not json", 422, "Expected a JSON body"),
    ("/score/toy_echo", b'{"items": 3}', 422, "Invalid BatchRequest"),
    ("/score/toy_echo", b'{"task": {"wrong_field": 1}, "completion": "1"}', 422, "Invalid task for toy_echo"),
])
def test_errors_are_the_json_problems_of_the_fastapi_route(worker, path, body, status, detail):
    answer = worker.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status
    assert detail in answer.json()["detail"]


def test_other_routes_still_go_through_fastapi(worker):
    assert worker.get("/v1/envs/toy_echo").json()["name"] == "toy_echo"
    assert worker.get("/score/toy_echo").status_code == 405
    assert worker.post("/score/toy_echo/extra", json={}).status_code == 404
    assert json.loads(worker.get("/healthz").content)["status"] == "ok"
