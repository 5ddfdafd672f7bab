"""An environment's exception: a one-line message with where it happened on the wire, the traceback in the log,
and no more than a burst of tracebacks per window (a broken environment under load cannot flood the log)."""

from __future__ import annotations

import logging

from rewardgym.worker import failures
from rewardgym.worker.execution import FamilyExecutor
from rewardgym.worker.jobs import ScoreJob


def test_a_scoring_exception_is_a_short_error_and_a_logged_traceback(caplog, monkeypatch):
    monkeypatch.setattr(failures, "_window_start", float("-inf"))
    executor = FamilyExecutor.load("tests.support.toy_family:FAMILY")
    env = executor.envs["toy_echo"]
    with caplog.at_level(logging.ERROR, logger="rewardgym.worker.failures"):
        status, value = executor.score(env, ScoreJob("toy_echo", {"answer": "a"}, "!raise"))
    assert status.value == "error"
    assert value["message"].startswith("RuntimeError: boom (at toy_family.py:")
    assert "Traceback" not in value["message"] and set(value) == {"message"}
    assert "Traceback (most recent call last)" in caplog.text and "toy_echo: score raised RuntimeError" in caplog.text


def test_tracebacks_are_rate_limited_per_window(caplog, monkeypatch):
    monkeypatch.setattr(failures, "_window_start", float("-inf"))
    with caplog.at_level(logging.ERROR, logger="rewardgym.worker.failures"):
        for _ in range(failures.LOG_BURST + 7):
            try:
                raise ValueError("again")
            except ValueError as exc:
                failures.environment_error(exc, "env", "score")
        assert caplog.text.count("Traceback (most recent call last)") == failures.LOG_BURST
        monkeypatch.setattr(failures, "_window_start", float("-inf"))  # the window has passed
        try:
            raise ValueError("later")
        except ValueError as exc:
            failures.environment_error(exc, "env", "score")
    assert "7 more environment tracebacks were not logged" in caplog.text
    assert caplog.text.count("Traceback (most recent call last)") == failures.LOG_BURST + 1
