"""X-Request-ID: taken from the client when it is a short safe token, else assigned; returned on the response; on
every log line written while serving the request; logs as JSON lines with --log-format json."""

from __future__ import annotations

import io
import json
import logging

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rewardgym.logs import JsonLineFormatter, RequestIdFilter
from rewardgym.server.request_ids import with_request_ids
from tests.conftest import TOY_FAMILY, start_server, stop_server


def logging_app() -> tuple[TestClient, io.StringIO]:
    app = FastAPI()

    @app.get("/work")
    async def work() -> dict:
        logging.getLogger("rewardgym.test").warning("working on it")
        return {"ok": True}

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonLineFormatter())
    logger = logging.getLogger("rewardgym.test")
    logger.handlers[:] = [handler]
    logger.propagate = False
    return TestClient(with_request_ids(app)), stream


def test_a_clients_request_id_is_returned_and_on_every_log_line_of_the_request():
    client, stream = logging_app()
    answer = client.get("/work", headers={"x-request-id": "trainer-step-17.3"})
    assert answer.headers["x-request-id"] == "trainer-step-17.3"
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["request_id"] == "trainer-step-17.3" and line["message"] == "working on it"
    assert line["level"] == "WARNING" and line["logger"] == "rewardgym.test" and line["time"].endswith("Z")


def test_missing_or_unsafe_request_ids_are_replaced_by_fresh_ones():
    client, stream = logging_app()
    ids = [client.get("/work", headers=headers).headers["x-request-id"]
           for headers in ({}, {"x-request-id": "bad id\twith spaces"}, {"x-request-id": "x" * 500}, {})]
    assert all(len(i) == 32 for i in ids) and len(set(ids)) == 4
    logged = [json.loads(line)["request_id"] for line in stream.getvalue().splitlines()]
    assert logged == ids


def test_the_gateway_returns_request_ids_and_logs_json_lines(tmp_path):
    server = start_server(tmp_path, "--families", TOY_FAMILY, "--processes", "1", "--log-format", "json")
    try:
        answer = httpx.post(server.url + "/score/toy_echo", json={"task": {"answer": "a"}, "completion": "a"},
                            headers={"x-request-id": "abc-123"})
        assert answer.headers["x-request-id"] == "abc-123" and answer.json()["reward"] == 1.0
        assert httpx.get(server.url + "/nowhere").headers["x-request-id"]
    finally:
        stop_server(server)
    lines = [line for line in server.log().splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "request_id", "message"} <= set(json.loads(line))
                         for line in lines)
