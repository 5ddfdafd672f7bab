"""The client against live gateways (subprocesses on loopback or a Unix socket): order, retries, errors, nulls."""

from __future__ import annotations

import threading
import time

import httpx
import psutil
import pytest

from rewardgym_client import (AsyncRewardClient, ConnectionFailed, RetriesExhausted, RetryPolicy, RewardClient,
                              ServerError, Status)
from tests.conftest import free_port

TASK = {"answer": "1"}
FAST_RETRY = RetryPolicy(max_attempts=8, backoff_s=0.05, jitter=0.1)


class RecordingTransport(httpx.HTTPTransport):
    """A real transport that remembers the status code of every answer, to count attempts."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        with self.lock:
            self.statuses.append(response.status_code)
        return response


def expected_reward(completion: str) -> float:
    return 1.0 if completion == "1" else 0.0


def test_chunked_batch_comes_back_in_request_order(toy_server):
    completions = ["1", "2", "", "1"] * 12 + ["!sleep 0.3", "1"]
    completions[0] = "!sleep 0.4"  # the first chunk finishes last: order must not follow completion time
    items = [{"completion": c, "task": TASK, "id": f"i{n}"} for n, c in enumerate(completions)]
    transport = RecordingTransport()
    with RewardClient(toy_server.url, chunk_size=7, max_concurrency=4, transport=transport) as client:
        results = client.score_batch("toy_echo", items)
    assert transport.statuses == [200] * 8  # 50 items in requests of 7
    assert [r.id for r in results] == [f"i{n}" for n in range(50)]
    assert [r.reward for r in results] == [expected_reward(c) for c in completions]
    assert results[2].status is Status.NO_ANSWER and results[2].reward == 0.0


def test_groups_are_packed_whole_and_come_back_in_order(toy_server):
    groups = [{"id": f"g{n}", "task": {"answer": str(n)}, "completions": [str(n), "x", str(n)]} for n in range(10)]
    transport = RecordingTransport()
    with RewardClient(toy_server.url, chunk_size=7, transport=transport) as client:
        results = client.score_groups("toy_echo", groups)
    assert len(transport.statuses) == 5  # two groups of 3 per request of at most 7 items
    assert [[r.id for r in group] for group in results] == [[f"g{n}#{i}" for i in range(3)] for n in range(10)]
    assert [[r.reward for r in group] for group in results] == [[1.0, 0.0, 1.0]] * 10


async def test_async_client_chunks_in_order_and_keeps_null_rewards(toy_server):
    completions = ["1", "!raise", "2", "!sleep 0.2"] * 5
    items = [{"completion": c, "task": TASK} for c in completions]
    async with AsyncRewardClient(toy_server.url, chunk_size=3, max_concurrency=3) as client:
        results = await client.score_batch("toy_echo", items)
        groups = await client.score_groups("toy_echo", [{"task": TASK, "completions": completions[:4]}] * 3)
        envs = await client.envs()
    assert [r.status for r in results[:4]] == [Status.OK, Status.ERROR, Status.OK, Status.OK]
    assert [r.reward for r in results[:4]] == [1.0, None, 0.0, 0.0]
    assert "boom" in results[1].details["message"]
    assert [[r.reward for r in group] for group in groups] == [[1.0, None, 0.0, 0.0]] * 3
    assert [env.name for env in envs] == ["toy_echo"]


def test_null_rewards_stay_none(toy_server):
    with RewardClient(toy_server.url) as client:
        results = client.score_batch("toy_echo", [{"completion": "!raise", "task": TASK},
                                                  {"completion": "1", "task": {}},
                                                  {"completion": "1", "task": TASK}])
        single = client.score("toy_echo", TASK, "!raise")
    assert [(r.status, r.reward) for r in results] == [(Status.ERROR, None), (Status.INVALID_TASK, None),
                                                       (Status.OK, 1.0)]
    assert (single.status, single.reward) == (Status.ERROR, None)


@pytest.mark.parametrize("env, task, status, fragment", [
    ("nope", TASK, 404, "Unknown environment 'nope'"),
    ("toy_echo", {"answer": "!invalid"}, 422, "marked invalid"),
    ("toy_echo", {"answer": 1}, 422, "Invalid task for toy_echo"),
])
def test_other_4xx_raise_at_once_with_the_servers_message(toy_server, env, task, status, fragment):
    transport = RecordingTransport()
    with RewardClient(toy_server.url, retry=FAST_RETRY, transport=transport) as client:
        with pytest.raises(ServerError) as caught:
            client.score(env, task, "1")
    assert caught.value.status_code == status and fragment in caught.value.detail
    assert transport.statuses == [status]  # never retried


def test_tasks_and_catalogue(toy_server):
    with RewardClient(toy_server.url) as client:
        first = client.tasks("toy_echo", 3, seed=5, options={"difficulty": "easy"})
        again = client.tasks("toy_echo", 3, seed=5, options={"difficulty": "easy"})
        info = client.env("toy_echo")
    assert first == again and len(first) == 3 and len(first[0].task["answer"]) == 2
    assert info.name == "toy_echo" and info.generates_tasks


def occupy(server_url: str, seconds: float) -> threading.Thread:
    """Fill the busy server's queue (4 items) from another thread for at least `seconds`: each item sleeps that
    long, so the queue stays full however many of them the worker runs at once."""
    items = [{"completion": f"!sleep {seconds}", "task": TASK}] * 4
    body = {"items": items, "timeout_s": seconds + 1}
    thread = threading.Thread(target=lambda: httpx.post(server_url + "/score/toy_echo", json=body, timeout=60))
    thread.start()
    deadline = time.monotonic() + 10
    while "rewardgym_inflight_items{worker=" not in (metrics := httpx.get(server_url + "/metrics").text) or \
            not any(line.startswith("rewardgym_inflight_items{") and line.endswith(" 4.0")
                    for line in metrics.splitlines()):
        assert time.monotonic() < deadline, "the busy server never admitted the 4 items"
        time.sleep(0.02)  # until the gateway has admitted them (its /metrics gauge says so)
    return thread


def test_429_is_retried_after_retry_after_until_it_succeeds(busy_server):
    transport = RecordingTransport()
    blocker = occupy(busy_server.url, 1.5)  # the gateway says Retry-After: 1
    started = time.monotonic()
    with RewardClient(busy_server.url, retry=FAST_RETRY, transport=transport) as client:
        result = client.score("toy_echo", TASK, "1")
    waited = time.monotonic() - started
    blocker.join()
    assert result.reward == 1.0
    assert transport.statuses[0] == 429 and transport.statuses[-1] == 200
    assert set(transport.statuses[:-1]) == {429}
    assert waited >= 1.0 * (len(transport.statuses) - 1)  # each retry waited at least Retry-After


def test_429_retries_stop_after_the_bound(busy_server):
    transport = RecordingTransport()
    blocker = occupy(busy_server.url, 3.0)  # full for longer than the one retry's wait (~1 s)
    with RewardClient(busy_server.url, retry=RetryPolicy(max_attempts=2, jitter=0.0), transport=transport) as client:
        with pytest.raises(RetriesExhausted) as caught:
            client.score("toy_echo", TASK, "1")
    blocker.join()
    assert transport.statuses == [429, 429]
    assert caught.value.status_code == 429 and caught.value.attempts == 2 and "queued" in caught.value.detail


def test_503_while_a_worker_restarts_is_retried(busy_server):
    gateway = psutil.Process(busy_server.process.pid)
    worker = next(p for p in gateway.children() if "rewardgym.worker" in " ".join(p.cmdline()))
    worker.kill()
    deadline = time.monotonic() + 10
    while httpx.get(busy_server.url + "/readyz").status_code == 200:  # the gateway notices the exit
        assert time.monotonic() < deadline, "the gateway never noticed its worker died"
        time.sleep(0.01)
    transport = RecordingTransport()
    with RewardClient(busy_server.url, retry=RetryPolicy(max_attempts=30), transport=transport) as client:
        result = client.score("toy_echo", TASK, "1")
    assert result.reward == 1.0
    assert transport.statuses[0] == 503 and transport.statuses[-1] == 200


def test_connection_errors_are_retried_then_raised():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with RewardClient(url, retry=RetryPolicy(max_attempts=3, backoff_s=0.1, jitter=0.0)) as client:
        with pytest.raises(ConnectionFailed, match="after 3 attempts"):
            client.envs()
    assert time.monotonic() - started >= 0.3  # waited 0.1 + 0.2 between the three attempts


def test_unix_socket_base_url(socket_server):
    with RewardClient(f"unix://{socket_server}") as client:
        assert [env.name for env in client.envs()] == ["toy_echo"]
        groups = client.score_groups("toy_echo", [{"task": TASK, "completions": ["1", "0", "!raise"]}])
    assert [r.reward for r in groups[0]] == [1.0, 0.0, None]


async def test_async_unix_socket_base_url(socket_server):
    async with AsyncRewardClient(f"unix://{socket_server}") as client:
        result = await client.score("toy_echo", TASK, "1", id="a")
    assert (result.id, result.reward, result.env) == ("a", 1.0, "toy_echo")
