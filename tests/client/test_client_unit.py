"""Pure pieces of the client: backoff, Retry-After, chunk packing, headers (mock transport, no network)."""

from __future__ import annotations

import email.utils
import random

import httpx
import pytest

from rewardgym_client import RetryPolicy, RewardClient, ServerError
from rewardgym_client.wire import ClientSettings, chunk_groups, chunk_items
from rewardgym_client.retry import retry_after_seconds


def test_backoff_doubles_is_capped_and_jittered_upwards():
    policy = RetryPolicy(backoff_s=0.5, max_backoff_s=3.0, jitter=0.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]
    jittered = RetryPolicy(backoff_s=1.0, jitter=0.25)
    delays = [jittered.delay(1, rng=random.Random(seed)) for seed in range(50)]
    assert all(1.0 <= d <= 1.25 for d in delays) and len(set(delays)) > 1


def test_retry_after_is_a_floor_capped_by_max_wait():
    policy = RetryPolicy(backoff_s=0.1, jitter=0.0, max_wait_s=30.0)
    assert policy.delay(1, retry_after=4.0) == 4.0
    assert policy.delay(1, retry_after=120.0) == 30.0


def test_retry_after_header_seconds_or_http_date():
    def answer(value: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value})

    assert retry_after_seconds(answer("3")) == 3.0
    date = email.utils.formatdate(1_000_010.0, usegmt=True)
    assert retry_after_seconds(answer(date), now=1_000_000.0) == pytest.approx(10.0)
    assert retry_after_seconds(answer("soon")) is None
    assert retry_after_seconds(httpx.Response(429)) is None


def test_groups_are_never_split_and_chunks_keep_order():
    groups = [{"completions": ["x"] * n, "id": str(i)} for i, n in enumerate([3, 3, 2, 9, 1])]
    packed = chunk_groups(groups, 6)
    assert [[g["id"] for g in chunk] for chunk in packed] == [["0", "1"], ["2"], ["3"], ["4"]]
    assert chunk_items(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]


def test_settings_refuse_bad_values_and_read_unix_urls():
    assert ClientSettings("unix:///run/rg/gw.sock").unix_socket() == "/run/rg/gw.sock"
    assert ClientSettings("http://h:1/").http_base_url() == "http://h:1"
    with pytest.raises(ValueError, match="Expected a base URL"):
        ClientSettings("h:1")
    with pytest.raises(ValueError, match="chunk_size"):
        ClientSettings(chunk_size=0)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_bearer_token_is_sent_and_a_400_is_not_retried():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(400, json={"detail": "Expected n >= 1, got 0"})

    with RewardClient("http://gateway", token="s3cret", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ServerError, match="Expected n >= 1"):
            client.tasks("toy_echo", 0)
    assert len(seen) == 1 and seen[0].headers["authorization"] == "Bearer s3cret"


def test_a_non_json_error_body_still_gives_a_message():
    transport = httpx.MockTransport(lambda request: httpx.Response(502, text="Bad Gateway from a proxy"))
    with RewardClient("http://gateway", transport=transport) as client:
        with pytest.raises(ServerError) as caught:
            client.envs()
    assert caught.value.status_code == 502 and caught.value.detail == "Bad Gateway from a proxy"
