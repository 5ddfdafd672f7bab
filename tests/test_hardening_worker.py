"""Issue 7 on the worker side: nothing a request carries wedges a family (finding 1), large jobs travel (finding 2),
and any Unicode string gets a verdict, never a 500 (finding 5). Each hostile item is followed by a correct one
on the same process, which must score 1."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import uvloop
from starlette.testclient import TestClient

from rewardgym.protocol import Status
from rewardgym.worker.app import create_worker_app
from rewardgym.worker.jobs import ScoreJob
from rewardgym.worker.pool import ItemPool, PoolSettings
from tests.conftest import TOY_FAMILY, start_server, stop_server

BROKEN_FAMILY = "tests.support.toy_family:NO_SUCH_FAMILY"
NESTED_DEPTH = 600
"""Deeper than pickle could carry (it failed near 500 levels), well within the JSON parser's limit (~990)."""


def nested(depth: int) -> list:
    return json.loads("[" * depth + "]" * depth)


def echo(completion: str, answer: str = "1", **extra: object) -> ScoreJob:
    return ScoreJob("toy_echo", {"answer": answer, **extra}, completion)


def on_uvloop(test):
    """Run the coroutine on uvloop, as the worker does (uvloop makes watched descriptors non-blocking)."""
    def run() -> None:
        uvloop.run(asyncio.wait_for(test(), 60))
    run.__name__ = test.__name__
    return run


async def one_slot(**settings: object) -> ItemPool:
    pool = ItemPool(TOY_FAMILY, PoolSettings(**{"processes": 1, **settings}))
    await pool.start()
    return pool


async def assert_scores_correctly(pool: ItemPool, pid: int) -> None:
    outcome = await asyncio.wait_for(pool.submit(echo("1"), 2.0), 5)
    assert (outcome.status, outcome.value["reward"]) == (Status.OK, 1.0)
    assert pool.pids() == [pid] and pool.running == 0 and pool.replaced == 0


@on_uvloop
async def test_a_task_nested_600_levels_gets_a_verdict_and_the_slot_keeps_serving():
    pool = await one_slot()
    try:
        pid = pool.pids()[0]
        outcome = await asyncio.wait_for(pool.submit(echo("1", deep=nested(NESTED_DEPTH)), 2.0), 5)
        assert outcome.status is Status.INVALID_TASK and "deep" in outcome.value["message"]
        await assert_scores_correctly(pool, pid)
    finally:
        await pool.close()


@on_uvloop
async def test_jobs_of_400_kb_to_a_process_that_already_served_one_are_scored_in_place():
    pool = await one_slot()
    try:
        pid = pool.pids()[0]
        await assert_scores_correctly(pool, pid)
        large = "x" * 400_000  # the answer comes back in details too: large both ways
        outcomes = await asyncio.wait_for(asyncio.gather(*(pool.submit(echo(large, large), 2.0) for _ in range(6))), 20)
        assert [(o.status, o.value["reward"]) for o in outcomes] == [(Status.OK, 1.0)] * 6
        await assert_scores_correctly(pool, pid)
    finally:
        await pool.close()


@on_uvloop
async def test_a_job_that_cannot_be_sent_is_its_own_error_and_the_slot_keeps_serving():
    pool = await one_slot()
    try:
        pid = pool.pids()[0]
        outcome = await asyncio.wait_for(pool.submit(echo("1", unsendable=lambda: None), 2.0), 5)
        assert outcome.status is Status.ERROR and "could not be sent" in outcome.value["message"]
        await assert_scores_correctly(pool, pid)
    finally:
        await pool.close()


@on_uvloop
async def test_a_lone_surrogate_is_replaced_and_scored():
    pool = await one_slot()
    try:
        pid = pool.pids()[0]
        outcome = await asyncio.wait_for(pool.submit(echo("1\ud800"), 2.0), 5)
        assert (outcome.status, outcome.value["reward"], outcome.value["details"]["extracted"]) == (
            Status.OK, 0.0, "1\ufffd")
        await assert_scores_correctly(pool, pid)
    finally:
        await pool.close()


async def wait_for_health(pool: ItemPool, status: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while pool.health().status != status:
        assert time.monotonic() < deadline, f"health stayed {pool.health()}"
        await asyncio.sleep(0.05)


@on_uvloop
async def test_slots_whose_processes_cannot_start_are_reported_and_recover():
    pool = ItemPool(TOY_FAMILY, PoolSettings(processes=2))
    await pool.start()
    try:
        assert pool.health().status == "ok"
        pool.family_spec = BROKEN_FAMILY  # a new process now dies before it can say it is ready
        crashed = await asyncio.wait_for(asyncio.gather(pool.submit(echo("!crash"), 2.0), pool.submit(echo("!crash"), 2.0)), 10)
        assert [o.status for o in crashed] == [Status.ERROR, Status.ERROR]
        await wait_for_health(pool, "unavailable")
        assert pool.health().serving == 0 and len(pool.health().failing) == 2
        assert "exited" in pool.health().failing[0]
        pool.family_spec = TOY_FAMILY
        await wait_for_health(pool, "ok")
        assert (await asyncio.wait_for(pool.submit(echo("1"), 2.0), 5)).value["reward"] == 1.0
    finally:
        await pool.close()


def test_worker_healthz_is_503_while_no_process_can_serve():
    app = create_worker_app(TOY_FAMILY, PoolSettings(processes=1))
    with TestClient(app) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        app.state.scorer.pool.family_spec = BROKEN_FAMILY
        crashed = client.post("/score/toy_echo", json={"items": [{"task": {"answer": "1"}, "completion": "!crash"}]})
        assert crashed.status_code == 200 and crashed.json()["results"][0]["status"] == "error"
        deadline = time.monotonic() + 20
        while (health := client.get("/healthz")).status_code == 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert (health.status_code, health.json()["status"], health.json()["serving"]) == (503, "unavailable", 0)
        app.state.scorer.pool.family_spec = TOY_FAMILY
        deadline = time.monotonic() + 20
        while client.get("/healthz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert client.post("/score/toy_echo", json={"task": {"answer": "1"}, "completion": "1"}).json()["reward"] == 1


# ---- through a real gateway and math worker ---------------------------------------------------------------------


def post_json(client: httpx.Client, path: str, body: object) -> httpx.Response:
    """JSON with lone surrogates escaped (\\ud800), as any JSON encoder may send them."""
    return client.post(path, content=json.dumps(body, ensure_ascii=True),
                       headers={"content-type": "application/json"})


def test_deeply_nested_tasks_to_every_math_environment_do_not_wedge_the_family(math_server):
    with math_server.client(timeout=30) as client:
        envs = [env for env in client.get("/v1/envs").json()["envs"] if env["family"] == "math"]
        assert len(envs) >= 5
        for _ in range(2):  # at least once per scoring process (the fixture runs two)
            for env in envs:
                task = {**env["example"]["task"], "deep": nested(NESTED_DEPTH)}
                answer = post_json(client, f"/score/{env['name']}",
                                   {"groups": [{"task": task, "completions": [env["example"]["completion"]] * 2}]})
                assert answer.status_code == 200, answer.text
                assert {r["status"] for r in answer.json()["groups"][0]["results"]} == {"invalid_task"}
                assert client.get("/readyz").status_code == 200
        for env in envs:
            started = time.monotonic()
            answer = client.post(f"/score/{env['name']}", json=env["example"])
            assert answer.status_code == 200 and answer.json()["reward"] == 1.0, answer.text
            assert time.monotonic() - started < env["timeout_s"]


def test_a_group_of_64_with_one_lone_surrogate_gets_64_verdicts_and_the_connection_stays_good(math_server):
    group = ["The answer is\n#### 18"] * 32 + ["#### 17"] * 31 + ["#### 18 \ud800 done"]
    with math_server.client(timeout=60) as client:
        answer = post_json(client, "/score/gsm8k", {"groups": [{"task": {"answer": "18"}, "completions": group}]})
        assert answer.status_code == 200, answer.text
        results = answer.json()["groups"][0]["results"]
        assert [r["reward"] for r in results[:63]] == [1.0] * 32 + [0.0] * 31
        assert results[63]["status"] in ("ok", "no_answer") and results[63]["reward"] is not None
        for _ in range(3):  # the same client connection, and the gateway's pooled connection to the worker
            again = client.post("/score/gsm8k", json={"task": {"answer": "18"}, "completion": "#### 18"})
            assert again.status_code == 200 and again.json()["reward"] == 1.0


@pytest.mark.parametrize("body, fragment", [
    (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
    (b'{"task": {"answer": ' + b"9" * 5000 + b'}, "completion": "1"}', "digits"),
])
def test_bodies_past_the_parser_limits_are_422_and_the_next_request_is_served(math_server, body, fragment):
    with math_server.client(timeout=30) as client:
        answer = client.post("/score/gsm8k", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 422 and fragment in answer.json()["detail"], answer.text
        again = client.post("/score/gsm8k", json={"task": {"answer": "18"}, "completion": "#### 18"})
        assert again.status_code == 200 and again.json()["reward"] == 1.0


@pytest.fixture(scope="module")
def code_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("code"), "--families", "code", "--processes", "2")
    yield server
    stop_server(server)


def test_a_lone_surrogate_in_a_program_gets_a_verdict_not_an_error(code_server):
    """In code environments the program is compiled and run with the surrogate replaced (here: in a comment)."""
    task = {"tests": [{"input": "3\n", "output": "9\n"}], "time_limit_s": 2.0}
    square = "```python\nx = int(input())\nprint(x * x)  # {}\n```"
    group = [square.format("fine")] * 3 + [square.format("bad \ud800 char"), "```python\nprint('\udfff')\n```"]
    with code_server.client(timeout=120) as client:
        answer = post_json(client, "/score/python_stdio", {"groups": [{"task": task, "completions": group}]})
        assert answer.status_code == 200, answer.text
        results = answer.json()["groups"][0]["results"]
        assert [(r["status"], r["reward"]) for r in results] == [("ok", 1.0)] * 4 + [("ok", 0.0)], results
        again = client.post("/score/python_stdio", json={"task": task, "completion": square.format("again")})
        assert again.status_code == 200 and again.json()["reward"] == 1.0
